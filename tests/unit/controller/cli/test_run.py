"""controller/cli/run.py: what a run keeps of its welds stays bounded, whatever their number."""

from __future__ import annotations

import numpy as np

from controller.cli.run import TABLE_ROWS, Tally
from controller.monitor.monitor import WeldResult
from controller.weld.cycle import CycleResult
from controller.weld.sequencer import State


def _result(k: int, verdict: str) -> CycleResult:
    features = {"energy_j": 10.0 + k, "setdown_um": 50.0, "burn_through_ms": 7.0}
    result = WeldResult(features, verdict, [] if verdict == "PASS" else ["low energy"], {})
    return CycleResult(State.VERDICT, result, k, waveform=np.ones((1000, 4)))


def test_the_tally_keeps_counts_the_last_rows_and_only_the_last_waveform() -> None:
    tally = Tally()
    n = 3 * TABLE_ROWS + 7
    for k in range(1, n + 1):
        tally.add(_result(k, "FAIL" if k % 10 == 0 else "PASS"))
    assert (tally.made, tally.passed) == (n, n - n // 10)
    assert len(tally.rows) == TABLE_ROWS
    first_kept = n - TABLE_ROWS + 1
    assert tally.rows[0][:2] == (str(first_kept), str(first_kept))
    assert tally.rows[-1][:3] == (str(n), str(n), "PASS")
    assert tally.rows[-8][-1] == "low energy"  # weld 300, a FAIL, with its reason
    assert tally.last is not None and tally.last.record_id == n
    assert tally.last.waveform.shape == (1000, 4)
