"""Command line of the simulator: `python -m firmware_sim simulate SCHEDULE.toml ...`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivers.config.loader import ConfigError, parse_model
from drivers.config.schedule import Schedule, apply_overrides, load_schedule

if TYPE_CHECKING:
    from firmware_sim.run import Result

WAVEFORM_HEADER = "t_s,current_a,voltage_v,force_n,position_um"


def write_outputs(result: Result, out_dir: Path, extra: dict[str, object]) -> tuple[Path, Path]:
    """Write waveform.csv (measured, at the monitor rate) and result.json into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wave = out_dir / "waveform.csv"
    data = np.column_stack([result.t_s, result.measured])
    np.savetxt(
        wave,
        data,
        delimiter=",",
        header=WAVEFORM_HEADER,
        comments="",
        fmt=["%.6f", "%.3f", "%.5f", "%.4f", "%.2f"],
    )
    res = out_dir / "result.json"
    body = {**extra, **result.summary()}
    res.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return wave, res


def _summary_lines(result: Result, rate_khz: float) -> list[str]:
    o = result.outcome
    burn = f"{o.burn_through_ms:.2f} ms" if o.burn_through_ms is not None else "none"
    return [
        f"energy delivered   {o.energy_j:9.3f} J      peak current {o.peak_current_a:8.1f} A",
        f"weld time          {o.weld_time_ms:9.2f} ms     "
        f"mean voltage {o.mean_weld_voltage_v:8.3f} V",
        f"set-down           {o.setdown_um:9.1f} µm     ({o.setdown_pct:.1f} %)",
        f"burn-through       {burn:>12}   enamel removed {100 * o.enamel_removed_fraction:.0f} %",
        f"peak temperatures  interface {o.peak_interface_temp_c:.0f} °C, wire "
        f"{o.peak_wire_temp_c:.0f} °C, electrode/wire {o.peak_electrode_temp_c:.0f} °C"
        + (f", tip {o.peak_tip_temp_c:.0f} °C" if o.peak_tip_temp_c > o.peak_wire_temp_c else ""),
        f"joint              {o.jbf_n:9.3f} N      ({o.jbf_pct_of_wire:.1f} % of the wire's "
        f"{o.wire_strength_n:.2f} N)",
        f"defect             {o.defect}",
        f"samples            {len(result.t_s)} at {rate_khz:g} kHz",
    ]


KERNEL_ENTRY = Path(__file__).resolve().parent / "kernel" / "weld.py"


def kernel_cached(entry: Path = KERNEL_ENTRY) -> bool:
    """Return True if numba has `advance` of the kernel's entry module cached for this Python."""
    # numba writes its index next to the module, named after module, function, line and Python
    # (__pycache__/weld.advance-262.py311.nbi), and writes it again with each compile: one older
    # than the module is stale (an edit or a pull has rewritten the module since).
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    indexes = (entry.parent / "__pycache__").glob(f"{entry.stem}.advance-*.{tag}.nbi")
    return any(index.stat().st_mtime >= entry.stat().st_mtime for index in indexes)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run one stand-alone weld and write its waveform and ground truth."""
    try:
        schedule = load_schedule(args.schedule, args.set)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.count > 1:
        return _simulate_many(schedule, args)
    if not kernel_cached():
        # The kernel is compiled on first use and cached; say so rather than look hung.
        print("compiling the simulator kernel (first run only, about 20 s) ...", file=sys.stderr)
    from firmware_sim.model import prepare
    from firmware_sim.run import run

    t0 = time.perf_counter()
    result = run(prepare(schedule, seed=args.seed))
    wall = time.perf_counter() - t0
    extra = {
        "schedule": schedule.name,
        "schedule_hash": schedule.digest(),
        "seed": args.seed,
        "overrides": list(args.set),
        "waveform_is": "measured (ADC noise and resolution applied)",
    }
    wave, res = write_outputs(result, Path(args.out), extra)
    print(f"simulated {schedule.name} (seed {args.seed}) in {wall:.2f} s")
    for line in _summary_lines(result, schedule.sim.output_khz):
        print("  " + line)
    print(f"wrote {wave} and {res}")
    return 0


DEFAULT_SCHEDULE = "tc_inverter_cu100_pb200"  # a schedule of the config folder


def cmd_station(args: argparse.Namespace) -> int:
    """Run the simulated station until SIGINT/SIGTERM."""
    import asyncio

    try:
        schedule = load_schedule(args.schedule, args.set)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from firmware_sim.faults import Faults
    from firmware_sim.serve import serve
    from firmware_sim.station import Station

    try:
        data = tomllib.loads(Path(args.faults).read_text()) if args.faults else {}
        data = apply_overrides(data, args.fault, args.faults or "--fault")
        faults = parse_model(Faults, data, args.faults or "--fault")
    except (OSError, tomllib.TOMLDecodeError, ConfigError) as exc:
        print(f"error: faults: {exc}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, not only on loopback", file=sys.stderr)
    station = Station(schedule, seed=args.seed, faults=faults, wear=args.wear)
    stopped_by = asyncio.run(
        serve(
            station,
            args.host,
            args.modbus_port,
            args.stream_port,
            args.clock,
            rtu=not args.no_rtu,
            faults=faults,
            exit_with_parent=args.exit_with_parent,
        )
    )
    # as a shell reports a process a signal ended (130 SIGINT, 143 SIGTERM): the station
    # stopped cleanly, but it did not end of itself
    return 0 if stopped_by is None else 128 + stopped_by


def _progress(done: int, count: int) -> None:
    """Say how far a run of count welds is: one line redrawn on a terminal; off a terminal (a
    log, a parent reading a pipe) a line of its own every 10 welds and at the end."""
    tty = sys.stderr.isatty()
    if tty:
        end = "\n" if done == count else ""
        print(f"\rsimulated {done}/{count}", end=end, file=sys.stderr, flush=True)
    elif done % 10 == 0 or done == count:
        print(f"simulated {done}/{count}", file=sys.stderr, flush=True)


def _simulate_many(schedule: Schedule, args: argparse.Namespace) -> int:
    """Run count welds (seeds seed, seed+1, ...) and write them all to DIR/welds.npz."""
    from firmware_sim.model import prepare
    from firmware_sim.run import run

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    waves: dict[str, np.ndarray] = {}
    results = []
    for k in range(args.count):
        res = run(prepare(schedule, seed=args.seed + k))
        waves[f"weld_{k:04d}"] = res.measured
        results.append({"seed": args.seed + k, **res.summary()})
        _progress(k + 1, args.count)
    save: Any = np.savez_compressed  # (numpy's stub takes **arrays for its keyword flags)
    save(out / "welds.npz", **waves)
    meta = {
        "schedule": schedule.name,
        "schedule_hash": schedule.digest(),
        "sample_rate_hz": schedule.sim.output_khz * 1e3,
        "results": results,
    }
    (out / "welds.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / 'welds.npz'} and {out / 'welds.json'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the validation checks, print their table; exit 1 if one does not hold."""
    from firmware_sim import validation

    unknown = sorted(set(args.only or ()) - set(validation.CHECKS))
    if unknown:
        print(
            f"error: no check named {', '.join(unknown)}; the checks: "
            f"{', '.join(validation.CHECKS)}",
            file=sys.stderr,
        )
        return 2
    if not kernel_cached():
        print("compiling the simulator kernel (first run only, about 20 s) ...", file=sys.stderr)
    table = validation.rows(args.only)
    if args.markdown:
        print(validation.markdown(table), end="")
    else:
        from rich.console import Console
        from rich.table import Table

        view = Table(*validation.HEADER)
        for row in table:
            view.add_row(*(c.replace("**", "") for c in row.cells()))
        Console().print(view)
    if args.plots:
        from firmware_sim.validation.plots import write_plots

        for path in write_plots(Path(args.plots)):
            print(f"wrote {path}")
    failed = [r.name for r in table if not r.holds]
    if failed:
        print(f"{len(failed)} of {len(table)} checks do not hold", file=sys.stderr)
    return 1 if failed else 0


PROG_ENV = "MICROWELD_PROG"  # how `microweld` named the command it handed over


def _add_validate(sub: argparse._SubParsersAction, progs: dict[str, str]) -> None:
    """Add `validate` to the simulator's command line."""
    va = sub.add_parser(
        "validate",
        prog=progs.get("validate"),
        help="hold the physics to published data and closed forms (docs/VALIDATION.md)",
    )
    va.add_argument("--only", action="append", metavar="CHECK", help="run only this check")
    va.add_argument("--plots", metavar="DIR", help="also write the validation plots into DIR")
    va.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (as the doc holds it)"
    )
    va.set_defaults(func=cmd_validate)


def build_parser(progs: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """Return the simulator's argument parser; progs: a command's name in its usage (as
    `microweld simulate` or `microweld sim`, not `python -m firmware_sim simulate`)."""
    progs = progs or {}
    ap = argparse.ArgumentParser(prog="python -m firmware_sim", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    sim = sub.add_parser(
        "simulate",
        prog=progs.get("simulate"),
        help="run one weld on the physical model, write CSV + JSON",
    )
    sim.add_argument("schedule", help="schedule name (configs/schedules) or file")
    sim.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="dotted.key=value",
        help="override any schedule or model value, e.g. head.force_n=10; ~dotted.key removes one",
    )
    sim.add_argument("--seed", type=int, default=0, help="seed of part spread and noise")
    sim.add_argument("--out", default="sim_out", help="output folder (default: sim_out)")
    sim.add_argument(
        "--count",
        type=int,
        default=1,
        help="welds to run (seeds seed..seed+count-1), written to DIR/welds.npz",
    )
    sim.set_defaults(func=cmd_simulate)
    st = sub.add_parser(
        "station",
        prog=progs.get("station"),
        help="run the simulated station behind Modbus and the stream",
    )
    st.add_argument(
        "schedule",
        nargs="?",
        default=str(DEFAULT_SCHEDULE),
        help="schedule whose process and settings the station starts with",
    )
    st.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="dotted.key=value",
        help="override a value of the schedule the station starts with (as simulate --set)",
    )
    st.add_argument("--seed", type=int, default=0, help="seed of part spread and noise")
    st.add_argument(
        "--wear", action="store_true", help="the tip wears weld by weld (reset by a dressing)"
    )
    st.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    st.add_argument("--modbus-port", type=int, default=0, help="Modbus TCP port (0: choose)")
    st.add_argument("--stream-port", type=int, default=0, help="stream TCP port (0: choose)")
    st.add_argument(
        "--clock",
        choices=("paced", "lockstep"),
        default="paced",
        help="paced: the wall clock; lockstep: one 1 ms block per credit byte the stream "
        "client sends (default paced)",
    )
    st.add_argument("--no-rtu", action="store_true", help="no Modbus RTU on a pty pair")
    st.add_argument("--faults", metavar="FILE.toml", help="faults to inject (see faults.py)")
    st.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when stdin closes (the controller that started it has gone)",
    )
    st.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="name=value",
        help="inject a fault, e.g. drop_reply_every=5, supply=not_charged",
    )
    st.set_defaults(func=cmd_station)
    _add_validate(sub, progs)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the simulator's command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["station", *argv]  # `python -m firmware_sim` alone starts a station
    named = os.environ.pop(PROG_ENV, "")
    args = build_parser({argv[0]: named} if named else None).parse_args(argv)
    return int(args.func(args))
