"""The MES publisher against an outside OPC UA client that tries to log in as "admin" with any
password, write a verdict, delete the row hash; against an endpoint off this machine (refused
unless secured: Basic256Sha256 Sign & Encrypt, users by password); and a publisher that dies
mid-session.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.sync import Client
from cryptography.x509.oid import ExtendedKeyUsageOID

from controller.qa.mes import NAMESPACE, MesError, OpcUaPublisher
from controller.qa.record import WeldIdentity
from controller.weld.session import WeldSession
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from tests.helpers.station import sim_station_file
from tests.reliability.battery import Record

CLIENT_URI = "urn:microweld:test-mes-client"


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


def _station_with_mes(tmp_path: Path, url: str, security: str | None) -> Path:
    toml = tmp_path / "bench.toml"
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        f'qa_log = "qa.sqlite"\nmes_opcua = "{url}"\n'
        + (f'mes_security = "{security}"\n' if security else "")
    )
    return toml


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "mes.example.com"])
def test_an_endpoint_off_this_machine_needs_the_secured_endpoint(tmp_path: Path, host: str) -> None:
    url = f"opc.tcp://{host}:4840/"
    with pytest.raises(ConfigError, match=r'not this machine.s loopback.*mes_security = "sign_e'):
        load_station(str(_station_with_mes(tmp_path, url, None)))
    secured = load_station(str(_station_with_mes(tmp_path, url, "sign_encrypt")))
    assert secured.mes_opcua == url
    with pytest.raises(MesError, match=r"not this machine.s loopback"):  # `run --mes URL`
        OpcUaPublisher(url, "bench-9", [])


def _client_key(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "client_key.pem", folder / "client_cert.der"
    asyncio.run(
        setup_self_signed_certificate(
            key, cert, CLIENT_URI, "localhost", [ExtendedKeyUsageOID.CLIENT_AUTH], {}
        )
    )
    return key, cert


def _login(url: str, keys: tuple[Path, Path] | None, user: str | None, password: str) -> Client:
    """Return a connected client (secured if keys are given); raise if refused."""
    client = Client(url, timeout=5)
    client.application_uri = CLIENT_URI
    if keys is not None:
        key, cert = keys
        client.set_security(
            SecurityPolicyBasic256Sha256,
            str(cert),
            str(key),
            mode=ua.MessageSecurityMode.SignAndEncrypt,
        )
    if user is not None:
        client.set_user(user)
        client.set_password(password)
    try:
        client.connect()
    except BaseException:
        client.tloop.stop()  # its thread: a refused client never disconnects
        raise
    return client


def test_a_secured_endpoint_takes_only_its_users_and_only_sign_and_encrypt(
    tmp_path: Path, data_folder: Path, record: Record
) -> None:
    password = "correct horse battery"
    added = subprocess.run(
        [sys.executable, "-m", "controller.cli", "mes-user", "mes-reader"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    users = data_folder / "mes" / "users.toml"
    assert users.stat().st_mode & 0o077 == 0 and password not in users.read_text()
    url = _endpoint()
    station = sim_station_file(tmp_path / "secured.toml", 5000, 6000)
    with station.open("a", encoding="utf-8") as f:
        f.write('mes_security = "sign_encrypt"\n')
    keys = _client_key(tmp_path)
    with WeldSession(str(station), qa_log=str(tmp_path / "qa.sqlite"), mes=url) as session:
        assert session.log is not None and session.log.anchor is not None
        res = session.weld(WeldIdentity(part_id="P-1"))
        time.sleep(0.3)  # published
        attempts = {
            "in the clear, anonymous": (None, None, ""),
            "in the clear, its user": (None, "mes-reader", password),
            "secured, anonymous": (keys, None, ""),
            "secured, a wrong password": (keys, "mes-reader", "not the password"),
            "secured, admin": (keys, "admin", "admin"),
        }
        let_in = []
        for what, (k, user, pw) in attempts.items():
            try:
                _login(url, k, user, pw).disconnect()
            except Exception:  # asyncua's ua.UaError subclasses, or OSError
                continue
            let_in.append(what)
        reader = _login(url, keys, "mes-reader", password)
        try:
            idx = reader.get_namespace_index(NAMESPACE)
            node = reader.nodes.objects.get_child([f"{idx}:secured"])
            verdict = node.get_child([f"{idx}:Verdict"])
            shown = verdict.read_value(), json.loads(node.get_child([f"{idx}:Anchor"]).read_value())
            with pytest.raises(ua.UaStatusCodeError):
                verdict.write_value(ua.Variant("FORGED-PASS", ua.VariantType.String))
        finally:
            reader.disconnect()
        end = session.log.anchor.last["welds"]
    record.cases, record.faults = len(attempts) + 2, len(attempts) + 1
    record.failures = len(let_in)
    assert let_in == [], f"let in: {let_in}"
    assert shown == (res.result.verdict, {t: list(v) for t, v in session.log.anchor.last.items()})
    assert shown[1]["welds"][0] == res.record_id == end[0]


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
