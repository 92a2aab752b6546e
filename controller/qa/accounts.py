"""Who may do what at a station: accounts with roles, and the signature that goes with a change.

An operator welds; an engineer edits schedules and windows (and teaches them); QA signs lot
releases and keeps the accounts. An account may hold several roles. The accounts are in
`<data>/accounts.toml` (owner-only): each name with its roles and the argon2id hash of its
password (argon2-cffi: a salted, memory-hard hash; the password itself is never kept).

Without that file a station is open, as it was before accounts: names are taken as typed and
nothing is signed. Once it exists (`microweld user NAME --role ...`), every weld needs an
operator's password, every change of a schedule or window an engineer's, and every release a
QA's; the audit trail records each signed change with the signer's name, the time and what
the signature means (21 CFR 11.50). The first account made holds the qa role, so that someone
may sign the accounts after it.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from controller.qa.seal import data_dir
from controller.qa.text import name_problem

ROLES = ("operator", "engineer", "qa")
# what each act needs, and what signing it means in the audit trail
ACTS = {
    "weld": ("operator", "welded"),
    "dress": ("operator", "dressed the electrode"),
    "edit": ("engineer", "authored"),
    "release": ("qa", "approved for release"),
    "accounts": ("qa", "account changed"),
}
MIN_PASSWORD = 12  # characters


class AccountsError(ValueError):
    """The accounts file cannot be read or written; the message says which file and why."""


class NotPermittedError(PermissionError):
    """A sign-in failed or the account may not do this; the message says which."""


@dataclass(frozen=True)
class Account:
    """A signed-in user: the name on every record and signature, and the roles it holds."""

    name: str
    roles: tuple[str, ...]


def accounts_path() -> Path:
    """Return the accounts file of this data folder."""
    return data_dir() / "accounts.toml"


def load_accounts(path: Path | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Return each account's password hash and roles ({} if there is no file: an open station)."""
    path = path or accounts_path()
    data = read_private(path, AccountsError)
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, entry in data.get("accounts", {}).items():
        digest = entry.get("hash") if isinstance(entry, dict) else None
        roles = entry.get("roles") if isinstance(entry, dict) else None
        if not (isinstance(digest, str) and digest.startswith("$argon2")):
            raise AccountsError(f"{path}: accounts.{name}.hash is not an argon2 hash")
        if not (isinstance(roles, list) and roles and set(roles) <= set(ROLES)):
            raise AccountsError(
                f"{path}: accounts.{name}.roles must list some of {', '.join(ROLES)}"
            )
        found[name] = (digest, tuple(roles))
    return found


def required(path: Path | None = None) -> bool:
    """Return True if this station signs (it has accounts): every act needs a sign-in."""
    return bool(load_accounts(path))


def sign_in(name: str, password: str, act: str, path: Path | None = None) -> Account:
    """Return the account if the password is its own and its roles allow the act (a key of
    ACTS); else raise NotPermittedError saying why (the same words for an unknown name and a
    wrong password: which names exist is not told)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    accounts = load_accounts(path)
    digest, roles = accounts.get(name, ("", ()))
    try:
        PasswordHasher().verify(digest, password)
    except (VerificationError, InvalidHashError):
        raise NotPermittedError(f"sign-in refused: wrong name or password for {name}") from None
    role, _ = ACTS[act]
    if role not in roles:
        raise NotPermittedError(
            f"{name} may not {_doing(act)} (roles: {', '.join(roles)}); an account with the "
            f"{role} role may"
        )
    return Account(name, roles)


def _doing(act: str) -> str:
    return {
        "weld": "weld",
        "dress": "record a dressing",
        "edit": "change schedules or windows",
        "release": "release a lot",
        "accounts": "change accounts",
    }[act]


def set_account(
    name: str, password: str | None, roles: tuple[str, ...], path: Path | None = None
) -> None:
    """Add an account or give one new roles and a new password (password None: remove it).
    The file is replaced whole, owner-only."""
    from argon2 import PasswordHasher

    path = path or accounts_path()
    if why := name_problem(name):
        raise AccountsError(f"the account name {why}")
    accounts = load_accounts(path)
    if password is None:
        if accounts.pop(name, None) is None:
            raise AccountsError(f"no account {name} in {path}")
        if accounts and not any("qa" in r for _, r in accounts.values()):
            raise AccountsError(f"{name} is the last qa account: nobody could change accounts")
    else:
        if not roles or not set(roles) <= set(ROLES):
            raise AccountsError(f"an account holds some of the roles {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountsError(f"a password has {MIN_PASSWORD} characters at least")
        if not accounts and "qa" not in roles:
            raise AccountsError("the first account holds the qa role (it signs the next ones)")
        accounts[name] = (PasswordHasher().hash(password), tuple(dict.fromkeys(roles)))
    write_private(
        path, {"accounts": {n: {"hash": h, "roles": list(r)} for n, (h, r) in accounts.items()}}
    )


def read_private(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """Return a TOML file's tables ({} if there is none); raise `error` naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{path}: {exc}") from None


def write_private(path: Path, data: dict[str, object]) -> None:
    """Replace a TOML file whole, owner-only (its folder too), durably."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(tomli_w.dumps(data).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def login_name() -> str:
    """Return the user's login name: who acts on a station without accounts."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "operator"
