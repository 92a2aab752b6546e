"""Teaching process windows: from good welds, mean ± k·σ per feature and per envelope point.

The welds come from the simulator (run in its own process, exactly as the station does: the
controller only reads the waveforms it wrote) or from the QA log (chosen by id and filters;
the logged waveforms are monitored again with settings for their schedule). Welds from more
than one schedule, or from a schedule that has changed since, are refused. A window is written
only after its audit record (old text and new, who, when) is in the QA log of the welds it
will judge.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tomli_w

from controller.monitor.monitor import Monitor
from controller.monitor.window import (
    CHANNELS,
    FEATURES,
    Band,
    Envelope,
    Limit,
    MonitorSettings,
    Window,
)
from controller.qa.log import QaLog, QaLogUnavailableError, open_existing
from controller.qa.record import JUDGED, LoggedWeld
from controller.qa.stores import QaUrl
from drivers.config.files import config_path
from drivers.config.schedule import Schedule, load_schedule
from drivers.wire.frames import BLOCK_SAMPLES, SAMPLE_PERIOD_S


class TeachError(ValueError):
    """The welds given cannot make a window (too few, or from different schedules)."""


def teach(
    name: str,
    schedule: str,
    schedule_hashes: Sequence[str],
    features: Sequence[dict[str, float | None]],
    traces: Sequence[dict[str, np.ndarray]],
    k_sigma: float,
    step_ms: float,
    monitor: MonitorSettings,
    dt_s: float = SAMPLE_PERIOD_S,
    min_count: int = 10,
    command: str = "",
) -> Window:
    """Build a window from good welds: mean ± k·σ per feature and per envelope point.

    Traces are sampled every dt_s from the current start; the envelope keeps, per step of
    step_ms, the widest band of its samples, widened in time on each side: by one step, so that
    a weld starting a sample early or late (the onset is steep) is not failed for it, and by
    k·σ of the burn-through's time where the welds have one, so that a part whose enamel gives
    way early or late within the spread the window allows (burn_through_ms) is not failed for
    the steep set-down and resistance that follow it.
    """
    if len(features) < min_count:
        raise TeachError(f"{len(features)} welds given; teaching needs at least {min_count}")
    if len(set(schedule_hashes)) != 1:
        raise TeachError(
            f"the welds come from {len(set(schedule_hashes))} different schedules "
            f"({sorted(set(schedule_hashes))}); teach from one schedule at a time"
        )
    limits: dict[str, Limit] = {}
    for feat in FEATURES:
        vals = [f.get(feat) for f in features]
        good = [float(v) for v in vals if v is not None and not math.isnan(float(v))]
        if len(good) != len(vals):
            continue  # a feature some good welds lack (e.g. no burn-through) is not limited
        mean, sd = float(np.mean(good)), float(np.std(good, ddof=1))
        spread = max(k_sigma * sd, 1e-3 * abs(mean), 1e-9)
        limits[feat] = Limit(min=float(f"{mean - spread:.6g}"), max=float(f"{mean + spread:.6g}"))
    slack = 1
    if "burn_through_ms" in limits:
        burn = [float(f["burn_through_ms"]) for f in features]  # type: ignore[arg-type]
        slack += math.ceil(k_sigma * float(np.std(burn, ddof=1)) / step_ms)
    bands: dict[str, Band] = {}
    for ch in CHANNELS:
        rows = [t[ch] for t in traces if ch in t]
        if len(rows) != len(traces) or not rows:
            continue
        per = max(1, round(step_ms * 1e-3 / dt_s))
        n = min(len(r) for r in rows) // per * per
        if n == 0:
            continue
        mat = np.vstack([r[:n] for r in rows])
        mean = mat.mean(axis=0)
        sd = mat.std(axis=0, ddof=1)
        # a floor on the band width: noise-free points would otherwise get a zero-width band
        spread = np.maximum(k_sigma * sd, 0.02 * np.abs(mean).max() + 1e-12)
        lo = (mean - spread).reshape(-1, per).min(axis=1)
        hi = (mean + spread).reshape(-1, per).max(axis=1)
        lo, hi = _widened(lo, slack, np.min), _widened(hi, slack, np.max)
        lo[0], hi[0] = min(lo[0], lo[1] if len(lo) > 1 else lo[0], 0.0), hi[:2].max()
        # 6 significant figures: far below any band width, and the file stays readable
        bands[ch] = Band(lo=[float(f"{x:.6g}") for x in lo], hi=[float(f"{x:.6g}") for x in hi])
    return Window(
        name=name,
        schedule=schedule,
        schedule_hash=schedule_hashes[0],
        taught_from=len(features),
        k_sigma=k_sigma,
        command=command,
        monitor=monitor,
        limits=limits,
        envelope=Envelope(step_ms=step_ms, **bands),
    )


def _widened(band: np.ndarray, steps: int, pick: Callable[..., np.ndarray]) -> np.ndarray:
    """Return band with each point the min (or max) of its neighbours within steps."""
    padded = np.pad(band, steps, mode="edge")
    return pick(np.lib.stride_tricks.sliding_window_view(padded, 2 * steps + 1), axis=1)


def monitor_settings(schedule: Schedule) -> MonitorSettings:
    """Return monitor settings that fit a schedule (firing force, the set-down reference)."""
    d_um = schedule.process.wire_diameter_mm * 1e3
    # crossed wires: set-down is counted against the stack of two wires, as in the simulator
    ref_um = 2 * d_um if schedule.process.kind == "direct" else d_um
    firing = schedule.head.force_n * schedule.head.fire_at_force_pct / 100.0
    return MonitorSettings(firing_n=0.95 * firing, wire_diameter_um=ref_um)


def simulate_welds(schedule_file: str, count: int, seed: int) -> tuple[list[np.ndarray], float]:
    """Run count welds of a schedule on the simulator in its own process (seeds seed,
    seed + 1, ...); return their waveforms and the sample period (s)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "firmware_sim",
            "simulate",
            schedule_file,
            "--count",
            str(count),
            "--seed",
            str(seed),
            "--out",
            tmp,
        ]
        if subprocess.call(cmd, stdout=subprocess.DEVNULL) != 0:
            raise TeachError("the simulator failed")
        meta = json.loads((Path(tmp) / "welds.json").read_text())
        with np.load(Path(tmp) / "welds.npz") as npz:
            waves = [npz[name] for name in sorted(npz.files)]
    return waves, 1.0 / float(meta["sample_rate_hz"])


def parse_ids(text: str) -> set[int]:
    """Return the weld ids of a list like "3,5-9,12"."""
    ids: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a:
                    raise ValueError
                ids.update(range(a, b + 1))
            elif part:
                ids.add(int(part))
        except ValueError:
            raise TeachError(f"--ids: {part!r} is not an id or a range a-b") from None
    return ids


def select_logged(
    path: Path | QaUrl,
    ids: set[int] | None = None,
    verdict: str = "PASS",
    since: str | None = None,
    until: str | None = None,
    schedule_name: str | None = None,
    part: str | None = None,
    lot: str | None = None,
    schedule_file: str | None = None,
) -> tuple[list[LoggedWeld], list[np.ndarray], Schedule]:
    """Select good welds from the QA log; return them, their waveforms and their schedule."""
    try:
        log = open_existing(path)
    except QaLogUnavailableError as exc:
        raise TeachError(str(exc)) from None
    try:
        rows = log.welds(
            since=since,
            until=until,
            verdict=None if verdict == "any" else verdict,
            schedule=schedule_name,
            part_id=part,
            lot=lot,
        )
        if ids:
            wanted = ids
            everything = {r.id: r for r in log.welds()}
            unknown = sorted(wanted - everything.keys())
            if unknown:
                raise TeachError(f"--ids: no weld {unknown[:10]} in {path}")
            left_out = sorted(wanted - {r.id for r in rows})
            if left_out:
                why = [f"{i} ({everything[i].verdict})" for i in left_out[:10]]
                raise TeachError(
                    f"--ids: weld(s) {', '.join(why)} do not match the other filters "
                    f"(verdict {verdict}); pass --verdict any to teach from them anyway"
                )
            rows = [r for r in rows if r.id in wanted]
        aborted = [r.id for r in rows if r.verdict not in JUDGED]
        if aborted:
            raise TeachError(
                f"weld(s) {aborted[:10]} were aborted or no-weld cycles: no weld to teach from"
            )
        if not rows:
            raise TeachError(f"no weld in {path} matches the filters")
        names = sorted({r.schedule for r in rows})
        if len(names) != 1:
            raise TeachError(f"the welds come from schedules {names}; choose one with --schedule")
        sched_file = config_path("schedules", schedule_file or names[0])
        schedule = load_schedule(sched_file)
        hashes = {r.schedule_hash for r in rows}
        if len(hashes) == 1 and schedule.digest() not in hashes:
            raise TeachError(
                f"{sched_file} is not the schedule these welds ran with (its hash "
                f"{schedule.digest()[:12]}, theirs {next(iter(hashes))[:12]}): pass the schedule "
                "as it was with --schedule-file"
            )
        waves = [log.waveform(r.id) for r in rows]
    finally:
        log.close()
    return rows, waves, schedule


def monitor_and_teach(
    waves: list[np.ndarray],
    dt_s: float,
    schedule: Schedule,
    hashes: list[str],
    settings: MonitorSettings,
    name: str,
    k_sigma: float = 4.0,
    step_ms: float = 0.1,
    min_count: int = 10,
    command: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Window:
    """Monitor each weld's waveform again and teach a window from the results; progress, if
    given, is told (welds done, welds) after each."""
    feats, traces = [], []
    for k, wave in enumerate(waves):
        mon = Monitor(settings=settings, dt_s=dt_s)
        for a in range(0, len(wave), BLOCK_SAMPLES):
            mon.feed(np.ascontiguousarray(wave[a : a + BLOCK_SAMPLES], dtype=np.float64))
        feats.append(mon.features())
        traces.append(mon.traces())
        if progress is not None:
            progress(k + 1, len(waves))
    return teach(
        name,
        schedule.name,
        hashes,
        feats,
        traces,
        k_sigma=k_sigma,
        step_ms=step_ms,
        monitor=settings,
        dt_s=dt_s,
        min_count=min_count,
        command=command,
    )


def logged_period_and_source(rows: list[LoggedWeld]) -> tuple[float, str]:
    """Return the logged welds' common sample period (s) and where they come from, in words."""
    rates = {r.sample_rate_hz for r in rows}
    if len(rates) != 1:
        raise TeachError(f"the welds were sampled at different rates {sorted(rates)} Hz")
    return 1.0 / rates.pop(), f"logged welds {id_ranges([r.id for r in rows])}"


def teach_from_log(
    path: Path | QaUrl,
    ids: set[int],
    k_sigma: float = 4.0,
    min_count: int = 10,
    base: Window | None = None,
    name: str | None = None,
) -> tuple[Window, str]:
    """Teach a window from chosen logged welds (any verdict but aborted); return it and where
    it came from (e.g. "logged welds 3-40")."""
    rows, waves, schedule = select_logged(path, ids, verdict="any")
    dt_s, source = logged_period_and_source(rows)
    window = monitor_and_teach(
        waves,
        dt_s,
        schedule,
        [r.schedule_hash for r in rows],
        base.monitor if base else monitor_settings(schedule),
        name or schedule.name,
        k_sigma=k_sigma,
        min_count=min_count,
        command=f"taught at the operator station from {source} of {path}",
    )
    return window, source


def id_ranges(ids: list[int]) -> str:
    """Return ids as compact ranges: 1-5,7,9-10."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def window_text(window: Window, command: str, source: str) -> str:
    """Return a window's file text: how and from what it was taught, then the window."""
    return f"# Taught by: {command}\n# From: {source}\n" + tomli_w.dumps(
        window.model_dump(mode="json", exclude_none=True)
    )


def save_window(
    window: Window, text: str, out: Path, audit: Path | QaUrl, who: str, meaning: str = ""
) -> None:
    """Write a window's text into its file and record it in the audit trail of a QA log (old
    text and new, who and what the signature means), both or neither: a window is never in
    its file without its trail, nor in the trail without its file."""
    log = QaLog(audit)
    try:
        log.save_audited(out, text, who, "window", window.name, meaning)
    finally:
        log.close()
