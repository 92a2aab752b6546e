"""The MES publisher against an outside OPC UA client that tries to log in as "admin" with any
password, write a verdict, delete the row hash; against an endpoint off this machine; and a
publisher that dies mid-session.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.sync import Client

from controller.qa.mes import NAMESPACE
from controller.qa.record import WeldIdentity
from controller.weld.session import WeldSession
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from tests.reliability.battery import Record


def _endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"opc.tcp://127.0.0.1:{port}/microweld/"


def test_no_user_name_gets_in_and_nothing_is_writable_from_outside(
    tmp_path: Path, record: Record
) -> None:
    url = _endpoint()
    with WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite"), mes=url) as session:
        session.weld(WeldIdentity(part_id="P-1"))
        time.sleep(0.3)  # published
        refused = []
        for password in ("admin", "wrong", ""):
            intruder = Client(url, timeout=5)
            intruder.set_user("admin")
            intruder.set_password(password)
            try:
                intruder.connect()
            except Exception as exc:  # asyncua raises its ua.UaError subclasses, or OSError
                refused.append(type(exc).__name__)
                intruder.tloop.stop()  # its thread: a refused client never disconnects
            else:
                intruder.disconnect()
        assert len(refused) == 3, f"'admin' logged in: refused only {refused}"
        reader = Client(url, timeout=5)
        reader.connect()
        try:
            idx = reader.get_namespace_index(NAMESPACE)
            station = reader.nodes.objects.get_child([f"{idx}:sim"])
            verdict = station.get_child([f"{idx}:Verdict"])
            row_hash = station.get_child([f"{idx}:RowHash"])
            assert verdict.read_value() in ("PASS", "FAIL")  # anonymous may read
            with pytest.raises(ua.UaStatusCodeError):
                verdict.write_value(ua.Variant("FORGED-PASS", ua.VariantType.String))
            with pytest.raises(ua.UaStatusCodeError):
                reader.delete_nodes([row_hash])
            assert verdict.read_value() != "FORGED-PASS"
            assert row_hash.read_value()  # still there
        finally:
            reader.disconnect()
    record.cases, record.faults = 5, 5


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "mes.example.com"])
def test_an_endpoint_off_this_machine_is_refused(tmp_path: Path, host: str) -> None:
    toml = tmp_path / "bench.toml"
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        f'qa_log = "qa.sqlite"\nmes_opcua = "opc.tcp://{host}:4840/"\n'
    )
    with pytest.raises(ConfigError, match="not this machine's loopback"):
        load_station(str(toml))


def test_a_publisher_that_dies_is_reported_and_restarted(tmp_path: Path, record: Record) -> None:
    url = _endpoint()
    with WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite"), mes=url) as session:
        assert session.mes is not None and session.log is not None
        session.weld(WeldIdentity(part_id="P-1"))
        # a record the server cannot take ends its loop, as a bug in it would
        mes = session.mes
        assert mes._loop is not None and mes._queue is not None
        mes._loop.call_soon_threadsafe(mes._queue.put_nowait, {"broken": True})
        mes._thread.join(5.0)
        assert not mes._thread.is_alive()
        res = session.weld(WeldIdentity(part_id="P-2"))
        notices = session.take_notices()
        time.sleep(0.3)
        client = Client(url, timeout=5)
        client.connect()
        try:
            idx = client.get_namespace_index(NAMESPACE)
            station = client.nodes.objects.get_child([f"{idx}:sim"])
            shown = station.get_child([f"{idx}:RecordId"]).read_value()
        finally:
            client.disconnect()
    record.cases, record.faults = 2, 1
    assert len(notices) == 1 and "had stopped" in notices[0], notices
    assert shown == res.record_id and mes.restarts == 1
