"""A throwaway PostgreSQL server for the tests: Debian's own binaries, a cluster made by initdb in
a temporary folder, listening on a free loopback port only, stopped (immediate) at the end.

initdb and the server refuse to run as root (CI runs as root): then they run as the `postgres`
user that Debian's package creates, through runuser. Anyone else runs them as themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# where Debian's postgresql-NN package puts its programs (not on PATH: pg_ctlcluster wraps them)
DEBIAN_BINS = Path("/usr/lib/postgresql")
# the user Debian's package creates, which initdb runs as when the tests run as root
SERVER_USER = "postgres"


class PgUnavailableError(RuntimeError):
    """No PostgreSQL server can be started here (no binaries, or no user to run them as)."""


def find_bin(name: str) -> Path | None:
    """Return a PostgreSQL program: on PATH, or else the newest Debian version's."""
    found = shutil.which(name)
    if found:
        return Path(found)

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", p.parts[-3]))

    versions = sorted(DEBIAN_BINS.glob(f"*/bin/{name}"), key=version)
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server: its folder (cluster, socket and log), its port, who runs it."""

    folder: Path
    port: int
    bin_dir: Path
    run_as: str | None  # None: the current user
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        """Return the URL of a database of this server (the superuser, trusted on loopback)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "qa") -> str:
        """Create an empty database; return its URL."""
        import psycopg

        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def restart(self) -> None:
        """Stop the server as a crash would (immediate: no checkpoint, recovery from the WAL
        at the start) and start it again on the same port, every connection to it lost."""
        data = str(self.folder / "data")
        # restart reuses the options the server was started with (postmaster.opts)
        _run([str(self.bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "restart",
              "-l", str(self.folder / "server.log")], self.run_as)  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once (no checkpoint: it is thrown away) and remove its folder."""
        if not self.folder.exists():
            return
        _run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            self.run_as,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(cmd: Sequence[str], run_as: str | None, check: bool = True) -> str:
    full = ["runuser", "-u", run_as, "--", *cmd] if run_as else list(cmd)
    out = subprocess.run(full, capture_output=True, text=True, timeout=120)
    if check and out.returncode != 0:
        raise PgUnavailableError(f"{' '.join(full)} failed ({out.returncode}):\n{out.stderr}")
    return out.stdout


def _server_user() -> str | None:
    """Return who must run initdb and the server: None (the current user) unless root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PgUnavailableError(
            f"running as root, and initdb refuses root: there is no {SERVER_USER!r} user to run "
            "it as (Debian's postgresql package creates it: apt-get install postgresql)"
        ) from None
    if shutil.which("runuser") is None:
        raise PgUnavailableError("running as root, and runuser (util-linux) is not there")
    return SERVER_USER


def start_server() -> PgServer:
    """initdb a cluster in a temporary folder and start it on a free loopback port."""
    initdb = find_bin("initdb")
    if initdb is None:
        raise PgUnavailableError(
            "PostgreSQL is not installed: no initdb on PATH or in "
            f"{DEBIAN_BINS}/*/bin (apt-get install postgresql)"
        )
    bin_dir = initdb.resolve().parent  # pg_ctl beside it (/usr/local/bin may hold links)
    run_as = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="microweld-pg-"))
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    # trust: only loopback and the folder's own socket reach it, and it holds test data only;
    # --no-sync: a crash of the machine loses the whole throwaway cluster anyway (the
    # server itself keeps fsync on, so durable commits cost what they cost in production)
    _run(
        [
            str(initdb),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        run_as,
    )
    for attempt in range(3):  # the free port may be taken between the look and the start
        port = _free_port()
        server = PgServer(folder, port, bin_dir, run_as)
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=200"
        try:
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(folder / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    opts,
                    "start",
                ],
                run_as,
            )
        except PgUnavailableError:
            if attempt == 2:
                log = folder / "server.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                shutil.rmtree(folder, ignore_errors=True)
                raise PgUnavailableError(f"the PostgreSQL server did not start:\n{tail}") from None
            continue
        # a test run cut short by an exception still stops it (the fixture stops it first)
        atexit.register(server.stop)
        return server
    raise AssertionError("unreachable")


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    """Start a server for the length of a with block (the benches use it)."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
