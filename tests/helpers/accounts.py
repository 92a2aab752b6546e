"""A station's accounts for tests: QA's first (it must be), then whoever a test needs."""

from __future__ import annotations

from controller.qa import accounts

# each account's roles, and its password: its name's, made long enough
ROLES = {"quinn": ("qa",), "ana": ("operator",), "eve": ("engineer",)}


def password(name: str) -> str:
    """Return the test password of an account."""
    return f"{name}'s password 123"


def make_accounts(*names: str) -> None:
    """Make the accounts named (quinn, the QA account, always first) in the data folder."""
    for name in dict.fromkeys(("quinn", *names)):
        accounts.set_account(name, password(name), ROLES[name])
