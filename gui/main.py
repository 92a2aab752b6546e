"""`microweld gui` (`python -m gui`): open the operator station.

On the default station the simulator runs in paced mode, so a new user sees real-looking welds
at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from controller.weld import heap
from controller.weld.session import SessionError, WeldSession
from drivers.config.loader import ConfigError
from gui.app import MainWindow
from gui.screens import screenshots
from gui.worker import SessionSpec


def session_maker(
    station: str, schedule: str | None, window: str | None, qa_log: str | None
) -> tuple[SessionSpec, WeldSession]:
    """Return the session's recipe, and one session (not opened) to read the configs from now
    (a bad config is reported here, before any window opens)."""
    # the simulated station runs paced in the GUI: welds look and last as on the bench
    spec = SessionSpec(station, schedule, window, qa_log, clock="paced")
    return spec, spec()


def main(argv: list[str] | None = None) -> int:
    """Open the operator station."""
    p = argparse.ArgumentParser(prog="microweld gui", description=__doc__)
    p.add_argument("--station", default="sim", help="station config name or file (default sim)")
    p.add_argument("--schedule", help="schedule name or file (default: the station's)")
    p.add_argument("--window", help="process window name or file (default: the station's)")
    p.add_argument("--qa-log", help="QA log file (default: the station's)")
    p.add_argument(
        "--screenshots",
        metavar="DIR",
        help="weld 3 parts, write a PNG of each screen into DIR and exit (use a fresh --qa-log)",
    )
    args = p.parse_args(argv)
    try:
        make, probe = session_maker(args.station, args.schedule, args.window, args.qa_log)
    except (ConfigError, SessionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(make, probe)
    # maximized: a window manager fits it to the screen's available area exactly (title bar
    # and task bars known to it); without one the window has sized itself to that area
    win.showMaximized()
    heap.settle()  # Qt, pyqtgraph and the screens built: out of the collector's way
    if args.screenshots:
        try:
            for path in screenshots(win, Path(args.screenshots)):
                print(f"wrote {path}")
        finally:
            win.close()
        return 0
    return _run_until_closed(app, win)


def _run_until_closed(app: QCoreApplication, win: MainWindow) -> int:
    """Run the window until it is closed, or until SIGINT or SIGTERM closes it as the operator
    would (the weld session finishes its weld safely); return the exit code (128 + the
    signal's number after one)."""
    caught: list[int] = []

    def close_on(signum: int, _frame: object) -> None:
        caught.append(signum)
        QTimer.singleShot(0, win.close)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close_on)
    # Qt's loop runs in C++: Python runs its signal handlers only when it gets control back
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(200)
    code = int(app.exec())
    tick.stop()
    return 128 + caught[0] if caught else code
