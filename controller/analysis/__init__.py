"""Offline analysis of welds: SPC, process-window mapping and its executors, PNG figures."""
