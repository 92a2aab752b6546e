"""Publish each logged weld to an MES over OPC UA (asyncua), the optional `mes` extra.

The station's session hosts an OPC UA server (`mes_opcua = "opc.tcp://127.0.0.1:4840/microweld/"`
in the station config, or `microweld run --mes URL`). Under Objects it has one object per
station, `<station>`, holding the last weld logged:

  RecordId, TimeUtc, Operator, PartId, Lot, Schedule, ScheduleHash, Window, WindowHash,
  ElectrodeCount, SupplyWeldCount (0: no pulse in that cycle), Verdict, Reasons (String[]),
  RowHash (the QA log's hash chain), Features/<name> (Double, the name carries the unit;
  NaN where the feature does not exist), Anchor (the log's anchor after that weld's commit, as
  JSON: the last id and hash of each sealed chain, so that the MES holds a copy of the log's
  end outside it), Published (welds published since the server started) and Result: the
  whole record as one JSON text, written last.

On this machine's loopback the endpoint is served without security to anonymous readers. An
endpoint elsewhere needs the station's `mes_security = "sign_encrypt"`: Basic256Sha256 with
Sign & Encrypt only, a user name and password from controller/qa/mes_users.py, and the
server's own certificate. Nobody may write or delete anything, whoever logs in.

A data change on Result is the event to subscribe to: it is one consistent snapshot, where the
separate variables may be seen half-updated between two welds. The QA log stays the record of
truth: a weld is published only after its commit, from what the log holds, and an MES that was
away reads what it missed from the log (by RecordId). Publishing never waits on the MES: the
weld thread hands the record to the server's own thread and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from controller.qa import mes_users
from controller.qa.record import LoggedWeld

NAMESPACE = "urn:microweld"
START_TIMEOUT_S = 30.0  # the standard address space loads in 1-2 s on the bench machine


class MesError(RuntimeError):
    """The MES server cannot start (no asyncua, a bad URL, the port taken)."""


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_opcua_url(url: str) -> str:
    """Return url if it is an opc.tcp://host:port/... endpoint; raise ValueError saying why
    not."""
    parts = urlsplit(url)
    if parts.scheme != "opc.tcp":
        raise ValueError(f"an OPC UA endpoint starts with opc.tcp:// (got scheme {parts.scheme!r})")
    if not parts.hostname:
        raise ValueError("an OPC UA endpoint names its host, e.g. opc.tcp://127.0.0.1:4840/")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the port of {url!r} is not a number from 1 to 65535") from None
    if port is None:
        raise ValueError("an OPC UA endpoint names its port, e.g. opc.tcp://127.0.0.1:4840/")
    return url


def unsecured_problem(url: str) -> str:
    """Return why `url` may not be served without security ("" if it may: loopback only)."""
    host = urlsplit(url).hostname
    if host in LOOPBACK:
        return ""
    return (
        f"the OPC UA endpoint's host {host!r} is not this machine's loopback (127.0.0.1): an "
        'MES elsewhere needs mes_security = "sign_encrypt" in the station file (Basic256Sha256, '
        "Sign & Encrypt, users from `microweld mes-user`)"
    )


def _read_only_users(users: dict[str, str] | None) -> Any:
    """Return asyncua's user manager for the publisher, read-only whoever logs in (asyncua's
    default gives "admin" the Admin role whatever its password, and an Admin may write and
    delete nodes). users None: an anonymous client may read, and no user name or password
    logs anyone in. Else only those users, by their passwords."""
    from asyncua.crypto.permission_rules import User, UserRole
    from asyncua.server.user_managers import UserManager

    class ReadOnly(UserManager):
        def get_user(
            self,
            iserver: Any,
            username: str | None = None,
            password: str | None = None,
            certificate: Any = None,
        ) -> User | None:
            # (certificate: the channel's; the user's password is what is checked)
            if users is None:
                if username is not None or password is not None:
                    return None  # refused: no credentials are configured
                return User(role=UserRole.User)
            if username is None or not mes_users.password_ok(users, username, password or ""):
                return None
            return User(role=UserRole.User, name=username)

    return ReadOnly()


# (browse name, OPC UA type, the LoggedWeld field); Result, RowHash and Published apart
_FIELDS = (
    ("RecordId", "Int64", "id"),
    ("TimeUtc", "String", "t_utc"),
    ("Operator", "String", "operator"),
    ("PartId", "String", "part_id"),
    ("Lot", "String", "lot"),
    ("Schedule", "String", "schedule"),
    ("ScheduleHash", "String", "schedule_hash"),
    ("Window", "String", "window"),
    ("WindowHash", "String", "window_hash"),
    ("ElectrodeCount", "Int64", "electrode_count"),
    ("SupplyWeldCount", "Int64", "supply_weld_count"),
    ("Verdict", "String", "verdict"),
)


def snapshot(weld: LoggedWeld, row_hash: str, anchor: dict[str, Any]) -> dict[str, Any]:
    """Return the record as published in Result (JSON-ready; a missing feature is null)."""
    out = asdict(weld)
    out["row_hash"] = row_hash
    out["anchor"] = anchor
    return out


class OpcUaPublisher:
    """An OPC UA server on its own thread, showing the last weld of one station."""

    def __init__(self, url: str, station: str, features: list[str], secured: bool = False) -> None:
        """secured: Basic256Sha256 Sign & Encrypt and the users of mes_users.py only (needed
        off this machine)."""
        try:
            check_opcua_url(url)
        except ValueError as exc:
            raise MesError(f"mes_opcua {url!r}: {exc}") from None
        if not secured and (why := unsecured_problem(url)):
            raise MesError(f"mes_opcua {url!r}: {why}")
        try:
            import argon2  # noqa: F401
            import asyncua  # noqa: F401
        except ImportError:
            raise MesError(
                "publishing to an MES needs asyncua and argon2-cffi: pip install 'microweld[mes]'"
            ) from None
        self.users: dict[str, str] | None = None
        if secured:
            try:
                self.users = mes_users.load_users()
            except mes_users.MesUsersError as exc:
                raise MesError(f"the MES users: {exc}") from None
            if not self.users:
                raise MesError(
                    f"the secured MES endpoint {url} has no users: add one with "
                    "`microweld mes-user NAME`"
                )
            self.key_file, self.cert_file = mes_users.server_key()
        self.url, self.station, self.features = url, station, features
        self.published = 0
        self.restarts = 0
        self.reports: list[str] = []  # what the operator must be told (taken by the session)
        self._start()

    def _start(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[dict[str, Any] | None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mes-opcua", daemon=True)
        self._thread.start()
        url = self.url
        if not self._ready.wait(START_TIMEOUT_S):
            raise MesError(f"the OPC UA server at {url} did not start in {START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            raise MesError(f"the OPC UA server cannot start at {url}: {self._error}")

    def publish(self, weld: LoggedWeld, row_hash: str, anchor: dict[str, Any]) -> None:
        """Hand a committed weld to the server (returns at once). A server found stopped is
        reported (in `reports`) and started again; the log keeps every weld for an MES that
        missed some."""
        if not self._thread.is_alive():
            why = f"{type(self._error).__name__}: {self._error}" if self._error else "no reason"
            self.reports.append(f"the MES publisher at {self.url} had stopped ({why}): restarted")
            try:
                self.restarts += 1
                self._start()
            except MesError as exc:
                self.reports.append(f"the MES publisher cannot start again: {exc}")
                return
        if self._loop is None or self._queue is None:
            return
        with contextlib.suppress(RuntimeError):  # its loop closed just now
            self._loop.call_soon_threadsafe(
                self._queue.put_nowait, snapshot(weld, row_hash, anchor)
            )

    def take_reports(self) -> list[str]:
        """Return what happened to the publisher since the last call."""
        out, self.reports = self.reports, []
        return out

    def close(self, timeout_s: float = 5.0) -> None:
        """Publish what is queued, stop the server and its thread."""
        if self._loop is not None and self._queue is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the opener, or at the next publish
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        from asyncua import Server, ua

        # asyncua warns at every start about certificates a NoSecurity endpoint does not use
        logging.getLogger("asyncua").setLevel(logging.ERROR)
        server = Server(user_manager=_read_only_users(self.users))
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("microweld")
        if self.users is None:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            server.set_security_IDs(["Anonymous"])  # no user-name token is offered
        else:
            await self._secure(server)
        idx = await server.register_namespace(NAMESPACE)
        obj = await server.nodes.objects.add_object(idx, self.station)

        async def var(parent: Any, name: str, kind: str, value: Any) -> Any:
            vt = getattr(ua.VariantType, kind)
            return await parent.add_variable(idx, name, ua.Variant(value, vt))

        blank = {"Int64": 0, "String": "", "Double": math.nan}
        nodes = {n: await var(obj, n, k, blank[k]) for n, k, _ in _FIELDS}
        reasons = await obj.add_variable(
            idx, "Reasons", ua.Variant([], ua.VariantType.String, is_array=True)
        )
        row_hash = await var(obj, "RowHash", "String", "")
        anchor = await var(obj, "Anchor", "String", "")
        feats_obj = await obj.add_object(idx, "Features")
        feats = {f: await var(feats_obj, f, "Double", math.nan) for f in self.features}
        published = await var(obj, "Published", "Int64", 0)
        result = await var(obj, "Result", "String", "")
        self._queue = asyncio.Queue()
        async with server:
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            while (rec := await self._queue.get()) is not None:
                for name, kind, field in _FIELDS:
                    value = rec[field]
                    vt = getattr(ua.VariantType, kind)
                    await nodes[name].write_value(ua.Variant(value or blank[kind], vt))
                await reasons.write_value(
                    ua.Variant(list(rec["reasons"]), ua.VariantType.String, is_array=True)
                )
                await row_hash.write_value(ua.Variant(rec["row_hash"], ua.VariantType.String))
                await anchor.write_value(
                    ua.Variant(json.dumps(rec["anchor"]), ua.VariantType.String)
                )
                for name, node in feats.items():
                    value = rec["features"].get(name)
                    value = math.nan if value is None else float(value)
                    await node.write_value(ua.Variant(value, ua.VariantType.Double))
                self.published += 1
                await published.write_value(ua.Variant(self.published, ua.VariantType.Int64))
                await result.write_value(ua.Variant(json.dumps(rec), ua.VariantType.String))

    async def _secure(self, server: Any) -> None:
        """Serve Basic256Sha256 with Sign & Encrypt only, to users with a password, under the
        server's own certificate (made from its key if missing or expired)."""
        from asyncua import ua
        from asyncua.crypto.cert_gen import setup_self_signed_certificate
        from cryptography.x509.oid import ExtendedKeyUsageOID

        app_uri = f"urn:microweld:{self.station}"
        await server.set_application_uri(app_uri)
        await setup_self_signed_certificate(
            self.key_file,
            self.cert_file,
            app_uri,
            urlsplit(self.url).hostname or "localhost",
            [ExtendedKeyUsageOID.SERVER_AUTH],
            {"commonName": f"microweld {self.station}"},
        )
        await server.load_certificate(str(self.cert_file))
        await server.load_private_key(str(self.key_file))
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        server.set_security_IDs(["Username"])
