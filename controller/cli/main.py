"""The `microweld` command line.

Simulator commands become `python -m firmware_sim` (and `gui` becomes `python -m gui`): nothing
in the controller imports the simulator, exactly as it could not import a real supply's
firmware. The process is replaced, not given a child, so a signal sent to `microweld sim` or
`microweld gui` reaches the program that handles it.

Whatever a command did not expect ends in one line and exit code 1; the traceback goes to a
file in the data folder, for the developers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from controller.cli import accounts, log, map, mesuser, reliability, report, run, spc, teach
from controller.monitor.window import Window
from controller.weld import signals
from controller.weld.stations import data_dir, station_schema
from drivers.config.files import ENV as CONFIG_ENV
from drivers.config.materials import materials_schema
from drivers.config.schedule import Schedule
from drivers.wire.regmap import RegisterMap

REPO = Path(__file__).resolve().parents[2]


def _forward(module: str, argv: list[str], prog: str) -> int:
    # Become `python -m module`, the arguments untouched: its exit code is ours; its usage
    # says `prog`, the command as typed ("": its own)
    sys.stdout.flush()
    sys.stderr.flush()
    if prog:  # (read and dropped by the simulator's command line, so no child inherits it)
        os.environ["MICROWELD_PROG"] = prog
    os.execv(sys.executable, [sys.executable, "-m", module, *argv])
    return 1  # not reached


def _crashed(exc: Exception) -> int:
    """Say in one line that a command failed unexpectedly; keep the traceback in a file."""
    folder = data_dir() / "crashes"
    where = ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f" (details in {path})"
    except OSError:
        pass
    print(f"microweld: unexpected error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
    return 1


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON schemas of every config file kind into a folder."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    schemas = {
        "schedule": Schedule.model_json_schema(),
        "materials": materials_schema(),
        "window": Window.model_json_schema(),
        "register_map": RegisterMap.model_json_schema(),
        "station": station_schema(),
    }
    for name, schema in schemas.items():
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmarks in bench/ and write bench/last.json."""
    runner = REPO / "bench" / "run.py"
    if not runner.exists():
        print(
            f"error: {runner} not found; benchmarks run from a source checkout (pip install -e .)",
            file=sys.stderr,
        )
        return 2
    cmd = [sys.executable, str(runner)]
    for name in args.only or []:
        cmd += ["--only", name]
    return subprocess.call(cmd, cwd=REPO)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `microweld`."""
    ap = argparse.ArgumentParser(
        prog="microweld",
        description="Controller, monitor and simulator for resistance microwelding of fine wire.",
    )
    ap.add_argument(
        "--config-dir",
        metavar="DIR",
        help=f"read the config files from DIR, laid out as the shipped ones (or set {CONFIG_ENV}; "
        "default: the files installed with microweld)",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "simulate",
        add_help=False,
        help="run one weld on the simulator's physical model (see: microweld simulate --help)",
    )
    sub.add_parser(
        "sim",
        add_help=False,
        help="run the simulated station: Modbus TCP/RTU and the stream (see: microweld sim --help)",
    )
    sub.add_parser(
        "validate",
        add_help=False,
        help="hold the simulator to published data (see: microweld validate --help)",
    )
    sub.add_parser(
        "gui",
        add_help=False,
        help="open the operator station (Qt; see: microweld gui --help)",
    )
    sch = sub.add_parser("schema", help="write the JSON schemas of the config files")
    sch.add_argument("--out", default="schemas", help="output folder (default: schemas)")
    sch.set_defaults(func=cmd_schema)
    teach.add_parser(sub)
    log.add_parser(sub)
    mesuser.add_parser(sub)
    accounts.add_parser(sub)
    run.add_parser(sub)
    map.add_parser(sub)
    reliability.add_parser(sub)
    spc.add_parser(sub)
    report.add_parser(sub)
    bench = sub.add_parser("bench", help="run the benchmarks, print and save the figures")
    bench.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark")
    bench.set_defaults(func=cmd_bench)
    return ap


def _config_dir(argv: list[str]) -> list[str]:
    """Take a leading --config-dir DIR off argv into the environment, where every process this
    command starts (the simulated station, the GUI) reads it too; return the rest."""
    if argv and argv[0].startswith("--config-dir="):
        os.environ[CONFIG_ENV] = argv[0].partition("=")[2]
        return argv[1:]
    if len(argv) >= 2 and argv[0] == "--config-dir":
        os.environ[CONFIG_ENV] = argv[1]
        return argv[2:]
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run `microweld`; return the exit code."""
    argv = _config_dir(list(sys.argv[1:] if argv is None else argv))
    if argv and argv[0] == "simulate":
        return _forward("firmware_sim", argv, "microweld simulate")
    if argv and argv[0] == "sim":
        return _forward("firmware_sim", ["station", *argv[1:]], "microweld sim")
    if argv and argv[0] == "validate":
        return _forward("firmware_sim", argv, "microweld validate")
    if argv and argv[0] == "gui":
        # its own process: the controller never imports Qt
        return _forward("gui", argv[1:], "")  # (it names itself)
    args = build_parser().parse_args(argv)
    try:
        with signals.handled():
            return int(args.func(args))
    except signals.Interrupted as exc:
        print(f"microweld: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # the reader went away (`| head`): stop as a tool killed by SIGPIPE does, without
        # Python's own complaint when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception as exc:  # a bug: one line, not a traceback (the weld was made safe)
        return _crashed(exc)


if __name__ == "__main__":
    sys.exit(main())
