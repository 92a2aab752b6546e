"""How every function of the monitor kernel is compiled."""

from __future__ import annotations

from typing import Any

# Every function of the kernel is cached, takes NumPy's error model (a division by zero gives inf
# or NaN, no exception) and does no reference counting of arrays (_nrt=False): nothing in it
# allocates or keeps an array, and the counting would cost more than a short block takes to
# compute (also in the call from Python, which then adapts no array to the runtime). (Any:
# numba's type stubs do not list _nrt.)
JIT: Any = {"cache": True, "error_model": "numpy", "_nrt": False}
# The passes are inlined into monitor_block, where a row of 4 values has a constant length: then
# the compiler addresses rows without multiplying.
PASS: Any = {**JIT, "forceinline": True}
# A piece cut out of a long function, only to keep that function short, is spliced into its
# caller before the caller is compiled (numba's own inlining): the caller compiles to the machine
# code it had with the piece written in place. (A forceinline piece would be compiled on its own
# and inlined after, which changes the code around it: its use of registers, its blocks' order.)
PIECE: Any = {**JIT, "inline": "always"}
