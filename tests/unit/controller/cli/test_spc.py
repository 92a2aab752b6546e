"""`microweld spc`'s choice of window (controller/cli/spc.py judging_window)."""

from __future__ import annotations

from pathlib import Path

from controller.cli.spc import judging_window
from controller.qa.log import QaLog
from tests.helpers.records import weld_record


def test_a_no_weld_cycle_after_the_welds_does_not_hide_their_window(tmp_path: Path) -> None:
    log = QaLog(tmp_path / "qa.sqlite")
    log.record(weld_record(1))  # judged by tc_inverter_cu100_pb200
    log.record(weld_record(2, verdict="NO-WELD", window="", window_hash=""))  # --window none
    window, note = judging_window(log.welds())
    assert window is not None and window.name == "tc_inverter_cu100_pb200", note
    only = judging_window(log.welds()[1:])  # nothing judged: the newest weld's (none)
    assert only == (None, "no window: Cp and Cpk need limits")
