"""Start the simulated station as its own process, as the controller does (tests only)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import serial

from controller.qa.log import QaLog
from controller.weld.bench import Bench, Plan
from controller.weld.simstation import Endpoints, SimControl, sim_station
from drivers.errors import DeviceRefusedError, LinkError
from drivers.head import ServoForceHead
from drivers.link import ModbusLink, rtu_link, tcp_link
from drivers.stream import WaveformStream
from drivers.supply import CDSupply, InverterSupply
from drivers.wire.frames import Frame
from tests.helpers.paths import REPO
from tests.helpers.proxy import ResetProxy


@dataclass
class Running:
    """A running station and where it listens."""

    ends: Endpoints

    def __getattr__(self, name: str) -> object:
        # modbus_tcp, stream_tcp, rtu, stream_pty, supply_unit, head_unit, clock
        return getattr(self.ends, name)

    def link(self, transport: str) -> ModbusLink:
        """Return a Modbus link over "tcp" or "rtu"."""
        if transport == "tcp":
            return tcp_link(*self.ends.modbus_tcp, timeout_s=1.0)
        assert self.ends.rtu is not None
        return rtu_link(self.ends.rtu, timeout_s=1.0)

    def stream(self, over: str = "tcp") -> WaveformStream:
        """Return the waveform stream over "tcp" or the "pty"."""
        if over == "pty":
            return WaveformStream(serial.serial_for_url(self.ends.stream_pty, timeout=0.2))
        host, port = self.ends.stream_tcp
        return WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.2))


@contextmanager
def station(*args: str) -> Iterator[Running]:
    """Run a simulated station (its own process) until the block ends; always clean it up."""
    with sim_station(*args) as ends:
        yield Running(ends)


def station_file(
    path: Path,
    ends: Endpoints,
    db: Path,
    schedule: str,
    window: str | None = None,
    watchdog_ms: float = 500.0,
) -> Path:
    """Write a modbus_tcp station file at path for a running simulated station (inverter)."""
    host, modbus_port = ends.modbus_tcp
    _, stream_port = ends.stream_tcp
    path.write_text(
        f'name = "{path.stem}"\nkind = "modbus_tcp"\nhost = "{host}"\n'
        f"modbus_port = {modbus_port}\nstream_port = {stream_port}\n"
        f'supply_model = "inverter_supply"\nsupply_unit = {ends.supply_unit}\n'
        f'head_unit = {ends.head_unit}\nschedule = "{schedule}"\n'
        + (f'window = "{window}"\n' if window else "")
        + f'qa_log = "{db}"\n'
        # the simulator's margins, not the hardware's: it shares this machine with the
        # controllers (a watchdog trip under load latches a fault, and a run stops)
        f"watchdog_ms = {watchdog_ms}\nweld_reply_timeout_ms = 500\n",
        encoding="utf-8",
    )
    return path


def sim_station_file(path: Path, warning: int, limit: int) -> Path:
    """Write the shipped sim station under path's stem as its name, with these electrode
    warning and limit counts."""
    text = (REPO / "configs" / "stations" / "sim.toml").read_text(encoding="utf-8")
    path.write_text(
        text.replace('name = "sim"', f'name = "{path.stem}"')
        + f"electrode_warning = {warning}\nelectrode_limit = {limit}\n",
        encoding="utf-8",
    )
    return path


def drivers(
    run: Running, transport: str, cd: bool = False
) -> tuple[CDSupply | InverterSupply, ServoForceHead]:
    """Return the supply and head drivers over one link."""
    link = run.link(transport)
    supply = (CDSupply if cd else InverterSupply)(link, run.supply_unit)
    return supply, ServoForceHead(link, run.head_unit)


def step(stream: WaveformStream, blocks: int = 1) -> list[Frame]:
    """Grant a lockstep station `blocks` blocks and return their frames (and any summary)."""
    stream.grant(blocks)
    frames: list[Frame] = []
    while sum(1 for f in frames if f.summary is None) < blocks:
        got = stream.read(2.0)
        if not got:
            raise AssertionError(f"no frame within 2 s after {len(frames)} of {blocks}")
        frames += got
    return frames


def step_until(stream: WaveformStream, done: Callable[[], bool], limit: int = 3000) -> list[Frame]:
    """Step one block at a time until done() holds; return the frames seen."""
    frames: list[Frame] = []
    for _ in range(limit):
        frames += step(stream)
        if done():
            return frames
    raise AssertionError("condition not reached within the block limit")


# The plan the rig's cycles follow: a controller hold of 10 ms, so that every state of the cycle
# lasts blocks enough for a fault to be injected in it (a session welding the inverter schedule
# holds 0 ms: the supply runs its own hold), and no force watch (the faults are the point).
RIG_PLAN = Plan(hold_ms=10.0, fire_to_done_ms=0.0, force_range_n=None)


@dataclass
class Rig:
    """A lockstep station driven as the cycle drives it, its test panel and a QA log."""

    bench: Bench
    control: SimControl
    log: QaLog
    plan: Plan
    proxy: ResetProxy | None = None  # between the Modbus link and the station, if asked for
    ends: Endpoints | None = None  # where the station listens


@contextmanager
def lockstep_rig(
    qa_dir: Path,
    reply_timeout_s: float,
    transport: str = "tcp",
    weld_reply_timeout_s: float | None = None,
    watchdog_ms: float | None = None,
    stream_over: str = "tcp",
    proxy: bool = False,
) -> Iterator[Rig]:
    """Start a lockstep station (Modbus over "tcp" or "rtu", the stream over "tcp" or its
    "pty", inverter supply) with a Bench on it; optionally the weld's reply timeout and the
    watchdogs set, and (TCP) a ResetProxy between the Modbus link and the station."""
    args = ("--clock", "lockstep") + (("--no-rtu",) if transport == "tcp" else ())
    with sim_station(*args) as ends:
        relay = ResetProxy(ends.modbus_tcp) if proxy else None
        if transport == "tcp":
            at = ("127.0.0.1", relay.port) if relay else ends.modbus_tcp
            link = tcp_link(*at, timeout_s=reply_timeout_s)
        else:
            assert ends.rtu is not None
            link = rtu_link(ends.rtu, timeout_s=reply_timeout_s)
        host, port = ends.stream_tcp
        url = ends.stream_pty if stream_over == "pty" else f"socket://{host}:{port}"
        stream = WaveformStream(serial.serial_for_url(url, timeout=0.2))
        bench = Bench(
            InverterSupply(link, ends.supply_unit),
            ServoForceHead(link, ends.head_unit),
            stream,
            lockstep=True,
            weld_reply_timeout_s=weld_reply_timeout_s,
        )
        if watchdog_ms is not None:
            bench.supply.watchdog_ms = watchdog_ms
            bench.head.watchdog_ms = watchdog_ms
        control = SimControl(ends.control)
        log = QaLog(qa_dir / "qa.sqlite")
        try:
            yield Rig(bench, control, log, RIG_PLAN, relay, ends)
        finally:
            log.close()
            control.close()
            stream.close()
            link.close()
            if relay is not None:
                relay.close()


def reset_devices(bench: Bench, within_s: float = 5.0) -> None:
    """Clear both devices' faults (after a fault case), waiting for the link to come back:
    the first request after a cut may meet a stale connection, and after a few failures the
    link waits out its reconnect back-off (up to 2 s) before it tries again."""
    deadline = time.monotonic() + within_s
    for dev in (bench.supply, bench.head):
        while True:
            try:
                dev.reset()
                break
            except (LinkError, DeviceRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
