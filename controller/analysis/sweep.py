"""Running a map's points: each worker process welds them on a simulated station of its own, in
lockstep, through the full controller (Modbus TCP and the stream, as for any weld), and returns
the controller's verdict with the simulator's ground truth; points go to the workers in small
batches, locally on this machine's cores or on a Dask cluster. And the CSV of every weld.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import multiprocessing.util
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.analysis.mapping import Axis, MappedWeld, Point, variant
from controller.monitor.window import Window, load_window
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.bench import Plan, open_bench, program
from controller.weld.cycle import run_cycle
from controller.weld.simstation import SimControl
from controller.weld.stations import SimStation
from drivers.config.schedule import Schedule, load_schedule

BATCH = 8  # points per task: few enough to balance the workers, enough to amortise the trip
# the controller's features a map's CSV keeps of every weld
CSV_FEATURES = ("setdown_um", "energy_j", "burn_through_ms", "peak_current_a", "r_end_mohm")


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
        self._plan: Plan | None = None

    def weld(self, point: Point) -> MappedWeld:
        """Weld one point; return the controller's verdict and the station's ground truth."""
        sched = variant(self.base, list(self.job.axes), point.values)
        digest = sched.digest()
        if digest != self._programmed or self._plan is None:
            self._plan = program(self.bench, sched, self.watchdog_ms)
            self._programmed = digest
        # every point on a new tip, on its own part: the map is of the process, not of the
        # wear of whichever worker welded the point
        self.control.dress()
        before = self.control.part(point.part)["weld_count"]
        res = run_cycle(
            self.bench,
            self._plan,
            self.window,
            self.log,
            WeldIdentity(station="map", part_id=f"part-{point.part}"),
            sched.name,
            digest,
            0,
        )
        truth = self.control.outcome()
        fired = truth["weld_count"] > before
        out = truth["outcome"] if fired else None
        return MappedWeld(
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


def weld_batch(job: Job, points: Sequence[Point]) -> list[MappedWeld]:
    """Weld a batch of points on this process's station (started at its first batch)."""
    welder = _welder(job)
    return [welder.weld(p) for p in points]


def _batches(points: list[Point]) -> Iterator[list[Point]]:
    for a in range(0, len(points), BATCH):
        yield points[a : a + BATCH]


def run_local(
    job: Job, points: list[Point], workers: int, done: Callable[[int], None]
) -> list[MappedWeld]:
    """Weld the points on `workers` local processes; call done(n) as batches finish."""
    if workers == 1:
        out: list[MappedWeld] = []
        try:
            for b in _batches(points):
                out += weld_batch(job, b)
                done(len(b))
        finally:
            _close_all()
        return out
    welds: list[MappedWeld] = []
    with ProcessPoolExecutor(workers) as pool:
        futures: list[Future[list[MappedWeld]]] = [
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
) -> list[MappedWeld]:
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
        welds: list[MappedWeld] = []
        for fut in dask_completed(futures):
            got = fut.result()
            welds += got
            done(len(got))
        return welds


def write_csv(path: Path, axes: list[Axis], welds: list[MappedWeld]) -> None:
    """Write one row per weld: the point, the controller's verdict and features, the truth."""
    truth_keys = sorted({k for w in welds for k in w.truth})
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [a.label for a in axes]
            + ["repeat", "part", "verdict", "reasons"]
            + list(CSV_FEATURES)
            + ["defect (truth)", "jbf_n (truth)"]
            + [f"{k} (truth)" for k in truth_keys if k not in ("defect", "jbf_n")]
        )
        for w in sorted(welds, key=lambda w: (w.point.cell[::-1], w.point.repeat)):
            out.writerow(
                [f"{v:g}" for v in w.point.values]
                + [w.point.repeat, w.point.part, w.verdict, "; ".join(w.reasons)]
                + [_num(w.features.get(k)) for k in CSV_FEATURES]
                + [w.defect, _num(w.jbf_n)]
                + [_num(w.truth.get(k)) for k in truth_keys if k not in ("defect", "jbf_n")]
            )


def _num(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:.6g}" if isinstance(v, float) else str(v)
