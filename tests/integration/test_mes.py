"""Publishing logged welds to an MES over OPC UA: a real OPC UA client (asyncua's)
subscribes to the session's server while the simulated station welds, and what it receives is
what the QA log holds, hash chain included."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from asyncua.sync import Client

from controller.monitor.window import FEATURES
from controller.qa.mes import NAMESPACE
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError


def _endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"opc.tcp://127.0.0.1:{port}/microweld/"


class Results:
    """Collects the data changes of Result (one JSON text per weld)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.changed = threading.Condition()

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        if val:  # the server starts with an empty Result
            with self.changed:
                self.seen.append(json.loads(val))
                self.changed.notify_all()

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) >= n, timeout_s)
            return list(self.seen)


def test_every_logged_weld_reaches_an_opcua_subscriber_as_logged(tmp_path: Path) -> None:
    url = _endpoint()
    session = WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite"), mes=url)
    with session:
        assert session.log is not None
        client = Client(url, timeout=5)
        client.connect()
        try:
            idx = client.get_namespace_index(NAMESPACE)
            station = client.nodes.objects.get_child([f"{idx}:sim"])
            results = Results()
            sub = client.create_subscription(20, results)
            sub.subscribe_data_change(station.get_child([f"{idx}:Result"]))
            time.sleep(0.2)  # the subscription's first (empty) notification
            ids = [
                session.weld(WeldIdentity(part_id=f"P{k}", operator="ana")).record_id
                for k in range(3)
            ]
            got = results.wait_for(3)
            assert [g["id"] for g in got] == ids
            for g in got:
                weld, row_hash = session.log.weld(g["id"])
                assert g["row_hash"] == row_hash and g["verdict"] == weld.verdict
                assert g["features"] == weld.features and g["part_id"] == weld.part_id
            # the typed variables hold the last weld
            last, last_hash = session.log.weld(ids[-1])

            def read(*path: str) -> Any:
                return station.get_child([f"{idx}:{p}" for p in path]).read_value()

            assert read("RecordId") == last.id and read("Verdict") == last.verdict
            assert read("PartId") == "P2" and read("Operator") == "ana"
            assert read("SupplyWeldCount") == last.supply_weld_count == 3
            assert read("RowHash") == last_hash and read("Published") == 3
            # the log's end, as its anchor holds it, travels with the record: the MES keeps
            # a copy of it outside the log
            assert session.log.anchor is not None
            end = {t: list(v) for t, v in session.log.anchor.last.items()}
            assert json.loads(read("Anchor")) == end == got[-1]["anchor"]
            assert end["welds"] == [last.id, last_hash]
            assert read("Reasons") == last.reasons
            for name in FEATURES:
                value, logged = read("Features", name), last.features.get(name)
                assert math.isnan(value) if logged is None else value == pytest.approx(logged)
            # the chain the MES was given is the log's own
            assert session.log.verify() == []
        finally:
            client.disconnect()


def test_a_taken_port_is_refused_at_opening(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"opc.tcp://127.0.0.1:{s.getsockname()[1]}/"
        session = WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite"), mes=url)
        with pytest.raises(SessionError, match="OPC UA server cannot start"):
            session.open()
    assert session.bench is None  # nothing was left running


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("http://127.0.0.1:4840/", "starts with opc.tcp://"),
        ("opc.tcp://127.0.0.1/", "names its port"),
        ("opc.tcp://:4840/", "names its host"),
        ("opc.tcp://127.0.0.1:99999/", "not a number from 1 to 65535"),
    ],
)
def test_a_bad_endpoint_in_a_station_file_names_the_field(
    tmp_path: Path, bad: str, why: str
) -> None:
    toml = tmp_path / "bench.toml"
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        f'qa_log = "qa.sqlite"\nmes_opcua = "{bad}"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_station(str(toml))
    assert f"{toml}: mes_opcua: " in str(err.value) and why in str(err.value)
