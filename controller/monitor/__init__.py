"""The monitor: the numba kernels and their plain-Python reference, the streaming monitor,
process windows and their verdicts, and teaching windows from welds."""
