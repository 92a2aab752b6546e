"""Argument types the commands share (argparse refuses anything else, naming the option)."""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """Return a whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number from 1 up, not {text!r}")
    return n
