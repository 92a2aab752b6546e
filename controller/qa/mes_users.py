"""Who may read a secured MES endpoint, and the endpoint's own certificate.

A station whose `mes_security` is "sign_encrypt" serves OPC UA over Basic256Sha256 with Sign &
Encrypt only, to clients that log in with a user name and password (read-only, as everyone).
The users are in `<data>/mes/users.toml` (owner-only): each name with the argon2id hash of its
password, written by `microweld mes-user NAME`. The server's key and self-signed certificate
are made in the same folder on first use (`server_key.pem` owner-only, `server_cert.der` for
the MES's trust list).
"""

from __future__ import annotations

import os
from pathlib import Path

from controller.qa.accounts import read_private, write_private
from controller.qa.seal import data_dir

MIN_PASSWORD = 12  # characters


class MesUsersError(ValueError):
    """The users file cannot be read or written; the message says which file and why."""


def mes_dir() -> Path:
    """Return the folder of the secured endpoint's users, key and certificate."""
    return data_dir() / "mes"


def users_path() -> Path:
    """Return the users file."""
    return mes_dir() / "users.toml"


def load_users(path: Path | None = None) -> dict[str, str]:
    """Return each user name with its password hash ({} if the file does not exist)."""
    path = path or users_path()
    data = read_private(path, MesUsersError)
    users = data.get("users", {})
    if not isinstance(users, dict) or not all(
        isinstance(h, str) and h.startswith("$argon2") for h in users.values()
    ):
        raise MesUsersError(f'{path}: [users] holds NAME = "$argon2id$..." lines only')
    return dict(users)


def set_user(name: str, password: str | None, path: Path | None = None) -> None:
    """Add a user or give it a new password (None: remove it); the file is replaced whole,
    owner-only."""
    from argon2 import PasswordHasher

    path = path or users_path()
    users = load_users(path)
    if password is None:
        users.pop(name, None)
    else:
        if len(password) < MIN_PASSWORD:
            raise MesUsersError(f"a password has {MIN_PASSWORD} characters at least")
        users[name] = PasswordHasher().hash(password)
    write_private(path, {"users": users})


def password_ok(users: dict[str, str], name: str, password: str) -> bool:
    """Return True if `password` is the one of user `name`."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    digest = users.get(name)
    if digest is None:
        return False
    try:
        return PasswordHasher().verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def server_key(folder: Path | None = None) -> tuple[Path, Path]:
    """Return the endpoint's key (made now if there is none, owner-only) and where its
    certificate is (made by the server from the key: asyncua's helper)."""
    from asyncua.crypto.cert_gen import dump_private_key_as_pem, generate_private_key

    folder = folder or mes_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = folder / "server_key.pem"
    if not key.exists():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(dump_private_key_as_pem(generate_private_key()))
    return key, folder / "server_cert.der"
