"""Exports of the QA log: the welds' identities, verdicts and features as CSV, and their
waveforms as one HDF5 file, CSV per weld or one NPZ, each saying what it holds: channel names,
units and sample rate, and (HDF5) each weld's identity and verdict as attributes."""

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


FORMATS = ("hdf5", "csv", "npz")
UNITS = {"current_a": "A", "voltage_v": "V", "force_n": "N", "position_um": "µm"}
# the identity and verdict of a weld, as attributes of its dataset (HDF5)
IDENTITY: tuple[str, ...] = ("t_utc", "station", "operator", "part_id", "lot", "schedule")
IDENTITY += ("schedule_hash", "window", "window_hash", "verdict", "electrode_count")


def export_waveforms(log: QaLog, ids: Iterable[int], folder: Path, fmt: str = "hdf5") -> list[Path]:
    """Write the waveforms of the given welds (one HDF5 file, CSV per weld, or one NPZ);
    return the files."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(ids)
    if fmt == "hdf5":
        return [_hdf5(log, ids, folder / "waveforms.h5")]
    if fmt == "npz":
        path = folder / "waveforms.npz"
        arrays: dict[str, Any] = {
            "channels": np.array(CHANNELS),
            "units": np.array(list(UNITS.values())),
        }
        for i in ids:
            arrays[f"weld_{i}"] = log.waveform(i)
            arrays[f"sample_rate_hz_{i}"] = np.array(log.sample_rate_hz(i))
        save: Any = np.savez_compressed  # (numpy's stub takes **arrays for its keyword flags)
        save(path, **arrays)
        return [path]
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


def _hdf5(log: QaLog, ids: list[int], path: Path) -> Path:
    """Write one dataset per weld, `/welds/<id>` (n, 4) float32, with its channels, units,
    sample rate, identity, verdict, reasons and row hash as attributes."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["channels"] = list(CHANNELS)
        f.attrs["units"] = list(UNITS.values())
        group = f.create_group("welds")
        for i in ids:
            weld, row_hash = log.weld(i)
            data = group.create_dataset(str(i), data=log.waveform(i), compression="gzip")
            data.attrs["channels"] = list(CHANNELS)
            data.attrs["units"] = list(UNITS.values())
            data.attrs["sample_rate_hz"] = log.sample_rate_hz(i)
            data.attrs["record_id"] = i
            for name in IDENTITY:
                value = getattr(weld, name)
                data.attrs[name] = "" if value is None else value
            data.attrs["reasons"] = list(weld.reasons) or [""]
            data.attrs["row_hash"] = row_hash
    return path
