"""Signing in on the command line: the password asked on a terminal, or read as one line from
standard input (for scripts), and checked against the station's accounts
(controller/qa/accounts.py). On an open station (no accounts) nothing is asked."""

from __future__ import annotations

import getpass
import sys

from controller.qa import accounts
from controller.qa.accounts import login_name


class SignInError(RuntimeError):
    """Signing in failed; the message says why (printed as the command's one line)."""


def password(prompt: str) -> str:
    """Return a password: asked without echo on a terminal, else the next line of stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise SignInError(f"{prompt.rstrip(': ')}: none given (standard input is not a terminal)")
    return line.rstrip("\n")


def signed(name: str | None, act: str, flag: str) -> accounts.Account | None:
    """Return the account `name` signed in for the act (its password asked), or None on an
    open station. Raise SignInError if the station has accounts and this one may not."""
    try:
        if not accounts.required():
            return None
        if not name:
            raise SignInError(
                f"this station signs every {act}: give {flag} NAME (an account of "
                f"{accounts.accounts_path()})"
            )
        return accounts.sign_in(name, password(f"password of {name}: "), act)
    except (accounts.AccountsError, accounts.NotPermittedError) as exc:
        raise SignInError(str(exc)) from None


def signed_name(name: str | None, act: str, flag: str) -> str:
    """Return who does the act: the account signed in (see `signed`), or on an open station the
    name given, else the login name. Raise SignInError as `signed` does."""
    signer = signed(name, act, flag)
    return signer.name if signer else name or login_name()
