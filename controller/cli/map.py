"""`microweld map`: sweep a schedule's parameters through the full controller on simulated
stations in lockstep, and write the weld lobe (PNG) and every point (CSV).

Each worker process runs its own simulated station and controller (Modbus TCP and the stream,
as for any weld); points go to the workers in small batches. Locally the workers are this
machine's cores; `--executor dask` hands the same batches to a Dask cluster instead.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import multiprocessing.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.analysis.mapping import (
    Axis,
    Lobe,
    Point,
    Weld,
    centre,
    check_grid,
    contains,
    grid,
    lobe,
    nominal,
    parse_vary,
    variant,
)
from controller.analysis.plots import plot_lobe
from controller.monitor.window import Window, load_window
from controller.qa.log import QaLog
from controller.weld.cycle import Operator, run_cycle
from controller.weld.session import open_bench, program
from controller.weld.simstation import SimControl
from controller.weld.stations import SimStation, schedule_path, window_path
from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule

BATCH = 8  # points per task: few enough to balance the workers, enough to amortise the trip
FEATURES = ("setdown_um", "energy_j", "burn_through_ms", "peak_current_a", "r_end_mohm")


@dataclass(frozen=True)
class Job:
    """What every worker needs to weld points: picklable, so it travels to any executor."""

    schedule_file: str
    window_file: str | None
    seed: int
    axes: tuple[Axis, ...]


class Welder:
    """A simulated station in lockstep with a controller on it, welding a sweep's points."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.base: Schedule = load_schedule(job.schedule_file)
        self.window: Window | None = load_window(job.window_file) if job.window_file else None
        self._stack = contextlib.ExitStack()
        station = SimStation(schedule=self.base.name, clock="lockstep", seed=job.seed)
        self.watchdog_ms = station.watchdog_ms  # the station config's, as a session programs it
        bench = self._stack.enter_context(
            open_bench(station, self.base, Path(job.schedule_file), no_weld=False)
        )
        assert bench.sim_control is not None
        self.bench = bench
        self.control = SimControl(bench.sim_control)
        self._stack.callback(self.control.close)
        # the welds' records are the map's, not a station's QA log: a scratch log (in memory-
        # backed /dev/shm where there is one, so its syncs cost nothing) thrown away at the end
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        folder = self._stack.enter_context(tempfile.TemporaryDirectory(dir=shm))
        self.log = QaLog(Path(folder) / "map.sqlite")
        self._stack.callback(self.log.close)
        self._programmed = ""

    def weld(self, point: Point) -> Weld:
        """Weld one point; return the controller's verdict and the station's ground truth."""
        sched = variant(self.base, list(self.job.axes), point.values)
        digest = sched.digest()
        if digest != self._programmed:
            program(self.bench, sched, self.watchdog_ms)
            self._programmed = digest
        # every point on a new tip, on its own part: the map is of the process, not of the
        # wear of whichever worker welded the point
        self.control.dress()
        before = self.control.part(point.part)["weld_count"]
        res = run_cycle(
            self.bench,
            self.window,
            self.log,
            Operator(station="map", part_id=f"part-{point.part}"),
            sched.name,
            digest,
            0,
        )
        truth = self.control.outcome()
        fired = truth["weld_count"] > before
        out = truth["outcome"] if fired else None
        return Weld(
            point,
            res.result.verdict,
            list(res.result.reasons),
            dict(res.result.features),
            float(out["jbf_n"]) if out else None,
            str(out["defect"]) if out else "not_fired",
            dict(out) if out else {},
        )

    def close(self) -> None:
        """Stop the station; drop the scratch log."""
        self._stack.close()


_welders: dict[Job, Welder] = {}  # one per worker process and job, kept between batches


def _welder(job: Job) -> Welder:
    if job not in _welders:
        if not _welders:
            # A pool worker leaves by os._exit, which skips atexit: multiprocessing's own
            # finalisers are what it runs on the way out (without them every map left each
            # worker's scratch log behind in /dev/shm). atexit covers other executors' workers.
            multiprocessing.util.Finalize(None, _close_all, exitpriority=10)
            atexit.register(_close_all)
        _welders[job] = Welder(job)
    return _welders[job]


def _close_all() -> None:
    for w in _welders.values():
        w.close()
    _welders.clear()


def weld_batch(job: Job, points: Sequence[Point]) -> list[Weld]:
    """Weld a batch of points on this process's station (started at its first batch)."""
    welder = _welder(job)
    return [welder.weld(p) for p in points]


def _batches(points: list[Point]) -> Iterator[list[Point]]:
    for a in range(0, len(points), BATCH):
        yield points[a : a + BATCH]


def run_local(
    job: Job, points: list[Point], workers: int, done: Callable[[int], None]
) -> list[Weld]:
    """Weld the points on `workers` local processes; call done(n) as batches finish."""
    if workers == 1:
        out: list[Weld] = []
        try:
            for b in _batches(points):
                out += weld_batch(job, b)
                done(len(b))
        finally:
            _close_all()
        return out
    welds: list[Weld] = []
    with ProcessPoolExecutor(workers) as pool:
        futures: list[Future[list[Weld]]] = [
            pool.submit(weld_batch, job, b) for b in _batches(points)
        ]
        try:
            for fut in as_completed(futures):
                got = fut.result()
                welds += got
                done(len(got))
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return welds


def run_dask(
    job: Job, points: list[Point], scheduler: str | None, done: Callable[[int], None]
) -> list[Weld]:
    """Weld the points on a Dask cluster (a local one if no scheduler address is given)."""
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise SystemExit(
            "error: --executor dask needs Dask: pip install 'microweld[cluster]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1)
            )
            client = stack.enter_context(Client(cluster))
        # pure=False: two batches with equal points are still two jobs
        futures = [client.submit(weld_batch, job, b, pure=False) for b in _batches(points)]
        welds: list[Weld] = []
        for fut in dask_completed(futures):
            got = fut.result()
            welds += got
            done(len(got))
        return welds


class Progress:
    """A progress line on stderr: points done, rate and time left."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total = total
        self.n = 0
        self.t0 = time.monotonic()
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, n: int) -> None:
        self.n += n
        now = time.monotonic()
        if self.quiet or (now - self._last < (0.2 if self.tty else 5.0) and self.n < self.total):
            return
        self._last = now
        rate = self.n / max(now - self.t0, 1e-9)
        left = (self.total - self.n) / rate if rate > 0 else 0.0
        full = round(30 * self.n / self.total)
        line = (
            f"[{'#' * full}{'.' * (30 - full)}] {self.n}/{self.total} welds, "
            f"{rate:.1f}/s, {left:.0f} s left"
        )
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr)
        if self.tty and self.n >= self.total:
            print(file=sys.stderr)


def write_csv(path: Path, axes: list[Axis], welds: list[Weld]) -> None:
    """Write one row per weld: the point, the controller's verdict and features, the truth."""
    truth_keys = sorted({k for w in welds for k in w.truth})
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [a.label for a in axes]
            + ["repeat", "part", "verdict", "reasons"]
            + list(FEATURES)
            + ["defect (truth)", "jbf_n (truth)"]
            + [f"{k} (truth)" for k in truth_keys if k not in ("defect", "jbf_n")]
        )
        for w in sorted(welds, key=lambda w: (w.point.cell[::-1], w.point.repeat)):
            out.writerow(
                [f"{v:g}" for v in w.point.values]
                + [w.point.repeat, w.point.part, w.verdict, "; ".join(w.reasons)]
                + [_num(w.features.get(k)) for k in FEATURES]
                + [w.defect, _num(w.jbf_n)]
                + [_num(w.truth.get(k)) for k in truth_keys if k not in ("defect", "jbf_n")]
            )


def _num(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def report(schedule: Schedule, lb: Lobe, welds: list[Weld], seconds: float) -> list[str]:
    """Return the summary lines: rate, the PASS region, the nominal point, the suggestion."""
    axes = lb.axes
    lines = [f"{len(welds)} welds in {seconds:.1f} s ({len(welds) / max(seconds, 1e-9):.1f}/s)"]
    passed = sum(w.verdict == "PASS" for w in welds)
    lines.append(f"PASS {passed} of {len(welds)} welds")
    bad = lb.defects_in_pass()
    lines.append(
        "defects inside the PASS region (truth): "
        + (", ".join(f"{d} in {n} cells" for d, n in bad.items()) if bad else "none")
    )
    nom = nominal(schedule, axes)
    at = ", ".join(f"{a.name} {v:g} {a.unit}" for a, v in zip(axes, nom, strict=True))
    if all(contains(a, v) for a, v in zip(axes, nom, strict=True)):
        lines.append(f"the schedule's own point ({at}) is in the map")
    else:
        lines.append(f"the schedule's own point ({at}) lies outside the map")
    c = centre(lb)
    if c is None:
        lines.append(
            f"no cell is sound (free of defects, joints >= {lb.min_jbf_pct:g} % of the wire): "
            "no operating point to suggest"
        )
        return lines
    at = ", ".join(f"{a.name} {v:g} {a.unit}" for a, v in zip(axes, c.values, strict=True))
    inside = "inside" if lb.pass_frac[c.cell] >= 0.5 else "outside"
    lines.append(
        f"suggested operating point (the sound cell farthest from any unsound one): {at}; "
        f"{inside} the window's PASS region"
    )
    for m in c.margins:
        down = "to the map's edge" if m.down is None else f"-{m.down:g} {m.axis.unit}"
        up = "to the map's edge" if m.up is None else f"+{m.up:g} {m.axis.unit}"
        lines.append(f"  {m.axis.name} may drift {down} / {up} before a defect or a weak joint")
    return lines


def cmd_map(args: argparse.Namespace) -> int:
    """Sweep, write the lobe PNG and the CSV, print the summary."""
    try:
        sched_file = schedule_path(args.schedule)
        schedule = load_schedule(sched_file)
        win_name = args.window or schedule.name
        win_file = window_path(win_name) if win_name != "none" else None
        if args.window is None and win_file is not None and not win_file.exists():
            win_name, win_file = "none", None  # a schedule with no window of its own yet
        if win_file is not None:
            load_window(win_file)
        axes = [parse_vary(v, schedule) for v in args.vary]
        points = grid(axes, args.repeat)
        check_grid(schedule, axes)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    job = Job(str(sched_file), str(win_file) if win_file else None, args.seed, tuple(axes))
    workers = max(1, min(args.workers or os.cpu_count() or 1, len(points)))
    where = f"{workers} local processes" if args.executor == "local" else "a Dask cluster"
    shape = " x ".join(str(len(a.values)) for a in axes)
    print(
        f"mapping {schedule.name}: {len(points)} welds ({shape} points x {args.repeat}) on {where}",
        file=sys.stderr,
    )
    progress = Progress(len(points), args.quiet)
    t0 = time.monotonic()
    if args.executor == "local":
        welds = run_local(job, points, workers, progress)
    else:
        welds = run_dask(job, points, args.scheduler, progress)
    seconds = time.monotonic() - t0
    lb = lobe(axes, welds, args.min_jbf_pct)
    stem = out / f"{schedule.name}_map"
    write_csv(stem.with_suffix(".csv"), axes, welds)
    c = centre(lb)
    plot_lobe(
        lb,
        stem.with_suffix(".png"),
        f"{schedule.name}: weld lobe ({len(welds)} welds, window {win_name})",
        nominal(schedule, axes),
        c.values if c else None,
    )
    for line in report(schedule, lb, welds, seconds):
        print(line)
    print(f"wrote {stem.with_suffix('.png')} and {stem.with_suffix('.csv')}")
    return 0


def add_parser(sub: Any) -> None:
    """Register `microweld map`."""
    p = sub.add_parser(
        "map",
        help="map a schedule's process window on the simulator (weld lobe PNG + CSV)",
        description=(
            "Sweep parameters through the full controller on simulated stations in lockstep. "
            "The PASS region is the controller's verdicts against the window; joint strength "
            "and defect class come from the simulator's ground truth, for the map only."
        ),
    )
    p.add_argument("schedule", help="schedule name (configs/schedules) or file")
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="NAME=LO:HI:N",
        help="a parameter and its values (LO:HI:N or A,B,C): current, voltage or power (the "
        "supply's mode), time_ms, force_n, or a dotted schedule field. The first two are the "
        "lobe's axes; a third gives one panel per value.",
    )
    p.add_argument("--repeat", type=int, default=1, help="welds per point (parts 0..K-1)")
    p.add_argument("--window", help="window to judge by (default: the schedule's; 'none')")
    p.add_argument("--seed", type=int, default=0, help="the simulated station's seed")
    p.add_argument(
        "--min-jbf-pct",
        type=float,
        default=50.0,
        help="a sound joint holds at least this share of the wire's strength (default 50 %%)",
    )
    p.add_argument("--out", default="map", help="folder for the PNG and CSV (default: map)")
    p.add_argument("--workers", type=int, help="local processes (default: every core)")
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local processes, or a Dask cluster (pip install 'microweld[cluster]')",
    )
    p.add_argument("--scheduler", help="the Dask scheduler's address (default: a local cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_map)
