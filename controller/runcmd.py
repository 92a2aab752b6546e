"""`microweld run`: weld N parts on a station, log every weld, show the verdicts.

On the default station (`sim`) the simulated supply and head are started as a child process on
loopback and reached over Modbus TCP and the stream, exactly as hardware would be.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import serial

from controller.cycle import Bench, CycleResult, Operator, force_range, run_cycle
from controller.qalog import QaLog
from controller.simstation import sim_station
from controller.stations import SimStation, load_station, schedule_path, window_path
from controller.window import Window, load_window
from drivers.config.loader import ConfigError
from drivers.config.schedule import CDSupply, Schedule, load_schedule
from drivers.head import ServoForceHead
from drivers.modbus import rtu_link, tcp_link
from drivers.stream import WaveformStream
from drivers.supply import CDSupply as CDDriver
from drivers.supply import InverterSupply

TAPS = ("short", "medium", "long")
MODES = ("current", "voltage", "power")
SEGMENTS = ("squeeze", "up1", "weld1", "down1", "cool", "up2", "weld2", "down2", "hold")


def program(bench: Bench, schedule: Schedule) -> None:
    """Write the schedule's settings into the supply and the head (checked before sending)."""
    sup = schedule.supply
    if isinstance(sup, CDSupply):
        assert isinstance(bench.supply, CDDriver)
        bench.supply.charge_voltage_v = sup.charge_voltage_v
        bench.supply.pulse_tap = TAPS.index(sup.pulse_tap)
        bench.supply.first_pulse_pct = sup.first_pulse_pct
        bench.supply.interpulse_ms = sup.interpulse_ms
        bench.supply.squeeze_ms = sup.squeeze_ms
        bench.supply.hold_ms = sup.hold_ms
    else:
        assert isinstance(bench.supply, InverterSupply)
        bench.supply.mode = MODES.index(sup.mode)
        for seg in SEGMENTS:
            bench.supply.write(f"{seg}_ms", getattr(sup, f"{seg}_ms"))
        unit = {"current": "current_a", "voltage": "voltage_v", "power": "power_w"}[sup.mode]
        bench.supply.write(f"weld1_{unit}", sup.setpoint(1))
        bench.supply.write(f"weld2_{unit}", sup.setpoint(2))
    hd = schedule.head
    bench.head.force_setpoint_n = hd.force_n
    bench.head.approach_speed_mm_s = hd.approach_speed_mm_s
    bench.head.search_speed_mm_s = hd.search_speed_mm_s
    bench.head.force_ramp_n_per_ms = hd.force_ramp_n_per_ms
    bench.head.fire_at_force_pct = hd.fire_at_force_pct


@contextlib.contextmanager
def open_bench(
    station_name: str, schedule: Schedule, sched_file: Path, no_weld: bool
) -> Iterator[tuple[Bench, str]]:
    """Connect to the station's devices (starting the simulated one if it is `sim`)."""
    st = load_station(station_name)
    # the inverter runs its own hold segment; a CD supply's hold is the head's job
    hold = schedule.supply.hold_ms if isinstance(schedule.supply, CDSupply) else 0.0
    driver = CDDriver if isinstance(schedule.supply, CDSupply) else InverterSupply
    if isinstance(st, SimStation):
        args = [str(sched_file), "--clock", st.clock, "--seed", str(st.seed), "--no-rtu"]
        with sim_station(*args) as ends:
            link = tcp_link(*ends.modbus_tcp, timeout_s=1.0)
            host, port = ends.stream_tcp
            stream = WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.2))
            bench = Bench(
                driver(link, ends.supply_unit),
                ServoForceHead(link, ends.head_unit),
                stream,
                lockstep=st.clock == "lockstep",
                weld_enabled=not no_weld,
                hold_ms=hold,
                force_range_n=force_range(schedule.head.force_n, schedule.head.fire_at_force_pct),
            )
            try:
                yield bench, st.qa_log
            finally:
                stream.close()
                link.close()
        return
    if st.kind == "modbus_tcp":
        link = tcp_link(st.host, st.modbus_port)
        port_url = f"socket://{st.host}:{st.stream_port}"
    else:
        link = rtu_link(st.serial_port, st.baudrate)
        port_url = st.stream_port
    stream = WaveformStream(serial.serial_for_url(port_url, timeout=0.2))
    bench = Bench(
        driver(link, st.supply_unit),
        ServoForceHead(link, st.head_unit),
        stream,
        lockstep=False,
        weld_enabled=not no_weld,
        hold_ms=hold,
        force_range_n=force_range(schedule.head.force_n, schedule.head.fire_at_force_pct),
    )
    try:
        yield bench, st.qa_log
    finally:
        stream.close()
        link.close()


def _bar(k: int, n: int, width: int = 30) -> str:
    full = round(width * k / n)
    return "[" + "#" * full + "." * (width - full) + f"] {k}/{n}"


def cmd_run(args: argparse.Namespace) -> int:
    """Weld count parts and report."""
    try:
        st = load_station(args.station)
        sched_file = schedule_path(args.schedule or st.schedule)
        schedule = load_schedule(sched_file)
        win_name = args.window or st.window
        window: Window | None = load_window(window_path(win_name)) if win_name else None
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if window and window.schedule_hash and window.schedule_hash != schedule.digest():
        print(
            f"error: window {window.name} was taught for another version of schedule "
            f"{schedule.name}; teach it again (see the command in the window file)",
            file=sys.stderr,
        )
        return 2
    results: list[CycleResult] = []
    with open_bench(args.station, schedule, sched_file, args.no_weld) as (bench, qa_path):
        log_path = Path(args.qa_log or qa_path)
        log = QaLog(log_path)
        program(bench, schedule)
        warned = False
        for k in range(args.count):
            used = log.welds_since_dressing(st.name)
            if used >= st.electrode_limit:
                print(
                    f"\nelectrode limit reached: {used} welds since dressing (limit "
                    f"{st.electrode_limit}); dress it, then `microweld dress`",
                    file=sys.stderr,
                )
                log.close()
                return 2
            if used >= st.electrode_warning and not warned:
                print(
                    f"\nwarning: {used} welds since the electrode was dressed (warning at "
                    f"{st.electrode_warning}, limit {st.electrode_limit})",
                    file=sys.stderr,
                )
                warned = True
            who = Operator(
                station=st.name,
                operator=args.operator,
                part_id=f"{args.part}-{k + 1:04d}" if args.count > 1 else args.part,
                lot=args.lot,
            )
            res = run_cycle(
                bench,
                window,
                log,
                who,
                schedule.name,
                schedule.digest(),
                electrode_count=used + 1,
            )
            if res.state.value == "idle":
                print(f"\nweld refused: {res.abort_reason}", file=sys.stderr)
                log.close()
                return 2
            results.append(res)
            # shown only now, after the record was committed durably
            print(
                f"weld {k + 1}/{args.count}: log id {res.record_id} {res.result.verdict}",
                flush=True,
            )
            print("\r" + _bar(k + 1, args.count), end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        log.close()
    print(
        f"{'#':>4} {'log id':>12} {'verdict':8} {'energy J':>9} {'set-down µm':>11} "
        f"{'burn ms':>8}  reasons"
    )
    for k, res in enumerate(results, 1):
        f = res.result.features
        burn = f.get("burn_through_ms")
        print(
            f"{k:4d} {res.record_id:>12} {res.result.verdict:8} {f['energy_j'] or 0:9.3f} "
            f"{f['setdown_um'] or 0:11.1f} {burn if burn is None else round(burn, 2)!s:>8}  "
            + "; ".join(res.result.reasons)[:100]
        )
    passed = sum(r.result.verdict == "PASS" for r in results)
    print(f"{passed} of {len(results)} PASS; QA log: {log_path}")
    if results and args.png:
        from controller.plot import plot_weld

        last = results[-1]
        png = plot_weld(
            last.waveform,
            50_000.0,
            Path(args.png),
            f"{schedule.name}: weld {last.record_id} {last.result.verdict}",
            window,
        )
        print(f"last weld: {png}")
    return 0 if passed == len(results) else 1


def cmd_dress(args: argparse.Namespace) -> int:
    """Record an electrode dressing: the station's weld count starts again."""
    try:
        st = load_station(args.station)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log = QaLog(Path(args.qa_log or st.qa_log))
    before = log.welds_since_dressing(st.name)
    log.dressed(st.name, args.who)
    log.close()
    print(f"{st.name}: electrode dressed after {before} welds (by {args.who})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `run` and `dress` to the microweld command line."""
    d = sub.add_parser("dress", help="record an electrode dressing (resets its weld count)")
    d.add_argument("--station", default="sim", help="station config name or file")
    d.add_argument("--who", default="operator", help="who dressed it")
    d.add_argument("--qa-log", help="QA log file (default: the station's)")
    d.set_defaults(func=cmd_dress)
    p = sub.add_parser("run", help="weld parts on a station and log every weld")
    p.add_argument("--station", default="sim", help="station config name or file (default sim)")
    p.add_argument("--schedule", help="schedule name or file (default: the station's)")
    p.add_argument("--window", help="process window name or file (default: the station's)")
    p.add_argument("--count", type=int, default=5, help="welds to make (default 5)")
    p.add_argument("--part", default="part", help="part id (numbered when count > 1)")
    p.add_argument("--operator", default="operator", help="operator name")
    p.add_argument("--lot", default="lot-1", help="lot")
    p.add_argument("--no-weld", action="store_true", help="force cycle only, no current")
    p.add_argument("--qa-log", help="QA log file (default: the station's)")
    p.add_argument("--png", default="last_weld.png", help="picture of the last weld")
    p.set_defaults(func=cmd_run)
