"""Weld sequencer, real-time monitor, process windows, QA log and the `microweld` command line."""
