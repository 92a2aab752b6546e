"""Keeping Python's cyclic garbage collector out of the weld and out of the operator's frames.

A full collection walks every tracked object. After start-up (numba, pydantic, pymodbus, and in
the GUI Qt and pyqtgraph) that is 10^5 objects or more: measured here, one full pass stalled
the GUI for 92 ms (a frame over the 100 ms limit), and a young pass in the weld session took
up to 0.4 ms, twice the monitor's STOP budget. Start-up objects live as long as the process,
so they are frozen out of the collector's view once; during a weld cycle no automatic pass
runs at all (a cycle allocates a bounded few MB), and the young objects are collected once it
is over.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def settle() -> None:
    """Collect what start-up left, then freeze the survivors out of every later pass."""
    gc.collect()
    gc.freeze()


def without_collection(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap fn so that no automatic collection runs while it does; the youngest generation
    is collected after it (cheap: only what fn left), unless collection was off already."""

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        was_on = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_on:
                gc.enable()
                gc.collect(0)

    return wrapped
