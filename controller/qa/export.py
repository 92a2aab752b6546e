"""Exports of the QA log: the welds' identities, verdicts and features as CSV, and their
waveforms as CSV per weld or one NPZ."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from controller.qa.log import QaLog
from controller.qa.record import CHANNELS, LoggedWeld
from controller.qa.text import guarded


def export_features_csv(rows: Sequence[LoggedWeld], out: io.TextIOBase | Path) -> None:
    """Write the welds' identities, verdicts, reasons and features as CSV."""
    feats = sorted({k for r in rows for k in r.features})
    head = [
        "id",
        "t_utc",
        "station",
        "operator",
        "part_id",
        "lot",
        "schedule",
        "window",
        "verdict",
        "reasons",
        *feats,
    ]
    fh = out.open("w", newline="", encoding="utf-8") if isinstance(out, Path) else out
    try:
        w = csv.writer(fh)
        w.writerow(head)
        for r in rows:
            w.writerow(
                guarded(cell)
                for cell in [
                    r.id,
                    r.t_utc,
                    r.station,
                    r.operator,
                    r.part_id,
                    r.lot,
                    r.schedule,
                    r.window,
                    r.verdict,
                    "; ".join(r.reasons),
                    *[r.features.get(k) for k in feats],
                ]
            )
    finally:
        if isinstance(out, Path):
            fh.close()


def export_waveforms(log: QaLog, ids: Iterable[int], folder: Path, fmt: str = "npz") -> list[Path]:
    """Write the waveforms of the given welds (CSV per weld, or one NPZ); return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(ids)
    if fmt == "npz":
        path = folder / "waveforms.npz"
        save: Any = np.savez_compressed  # (numpy's stub takes **arrays for its keyword flags)
        save(path, **{f"weld_{i}": log.waveform(i) for i in ids})
        return [path]
    if fmt != "csv":
        raise ValueError(f"format must be csv or npz, not {fmt!r}")
    paths = []
    for i in ids:
        wave = log.waveform(i)
        t = np.arange(len(wave)) / log.sample_rate_hz(i)
        path = folder / f"weld_{i}.csv"
        np.savetxt(
            path,
            np.column_stack([t, wave]),
            delimiter=",",
            comments="",
            header="t_s," + ",".join(CHANNELS),
            fmt="%.7g",
        )
        paths.append(path)
    return paths
