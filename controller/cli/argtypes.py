"""Argument types the commands share (argparse refuses anything else, naming the option)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def positive(text: str) -> int:
    """Return a whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number from 1 up, not {text!r}")
    return n


class Deprecated(argparse.Action):
    """A former spelling of an option, kept so that scripts written with it still run: hidden
    from --help, it says on stderr (one line) which spelling to use instead, and stores its
    value where the new option does; `sets` names what else it meant (teach's --log was also
    the choice of where the welds come from)."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str,
        use: str,
        sets: dict[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        kwargs.update(help=argparse.SUPPRESS, default=argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)  # type: ignore[arg-type]
        self.use = use
        self.sets = sets or {}

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog}: {option_string} is deprecated, use {self.use}", file=sys.stderr)
        setattr(namespace, self.dest, values)
        for name, value in self.sets.items():
            setattr(namespace, name, value)


def add_qa_log(parser: argparse.ArgumentParser, *former: str, help: str = "") -> None:
    """Add --qa-log FILE, the one name of the QA log in every command, and its former
    spellings (`former`) as deprecated aliases."""
    parser.add_argument(
        "--qa-log",
        metavar="FILE",
        help=help or "QA log file or postgresql:// URL (default: the station's)",
    )
    for old in former:
        parser.add_argument(old, action=Deprecated, dest="qa_log", use="--qa-log")
