"""`microweld mes-user`: the users who may read a secured MES endpoint (controller/qa/mes_users.py).

The password is asked twice on a terminal, or read as one line from standard input (for
scripts); only its argon2id hash is kept, in the data folder's `mes/users.toml` (owner-only).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from controller.qa import mes_users
from controller.qa.text import name_problem


def _password() -> str | None:
    """Return the new password, or None (said why) if it was not given twice the same."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_mes_user(args: argparse.Namespace) -> int:
    """Add a user, give one a new password, or remove one."""
    if why := name_problem(args.name):
        print(f"error: the user name {why}", file=sys.stderr)
        return 2
    password = None if args.remove else _password()
    if password is None and not args.remove:
        return 2
    try:
        mes_users.set_user(args.name, password)
    except (mes_users.MesUsersError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = "removed" if args.remove else "may read the secured MES endpoint"
    print(f"{args.name}: {done} (users: {mes_users.users_path()})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `mes-user` to the microweld command line."""
    p = sub.add_parser("mes-user", help="add, change or remove a user of the secured MES endpoint")
    p.add_argument("name", help="user name the MES logs in with")
    p.add_argument("--remove", action="store_true", help="remove the user")
    p.set_defaults(func=cmd_mes_user)
