"""Typed clients for the supply, the force head and the waveform stream; wire formats, configs."""
