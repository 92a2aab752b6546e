"""`microweld user` (the station's accounts and their roles) and `microweld release` (QA signs
a lot's release): both signed into the station's QA log's audit trail
(controller/qa/accounts.py says who may do what)."""

from __future__ import annotations

import argparse
import collections
import sys

from controller.cli.argtypes import add_qa_log
from controller.cli.signin import SignInError, password, signed
from controller.qa import accounts
from controller.qa.log import QaLog, QaLogUnavailableError, open_existing
from controller.qa.stores import shown
from controller.qa.text import escaped
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError


def _new_password(name: str) -> str:
    """Return the new account's password, asked twice on a terminal (one line of stdin else)."""
    first = password(f"new password of {name}: ")
    if sys.stdin.isatty() and password("again: ") != first:
        raise SignInError("the two passwords differ")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    """Add an account, give it new roles and password, or remove it; signed by a QA account
    once there are accounts (the first one made holds the qa role)."""
    try:
        station = load_station(args.station)
        signer = signed(args.by, "accounts", "--by")  # before anything changes
        old = accounts.load_accounts().get(args.name)
        new_pw = None if args.remove else _new_password(args.name)
        log = QaLog(station.qa_location(args.qa_log))  # where it is recorded, before it is made
    except (ConfigError, SignInError, accounts.AccountsError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    was = ", ".join(old[1]) if old else "(no account)"
    now = "(removed)" if args.remove else ", ".join(dict.fromkeys(args.role or ()))
    by = signer.name if signer else args.name  # the first account signs its own making
    with log:
        try:
            accounts.set_account(args.name, new_pw, tuple(args.role or ()))
        except (accounts.AccountsError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        log.audit(by, "account", args.name, was, now, accounts.ACTS["accounts"][1])
    print(f"{args.name}: {now} (accounts: {accounts.accounts_path()}; signed by {by})")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    """Sign a lot's release: its welds counted by verdict, recorded with QA's signature."""
    try:
        station = load_station(args.station)
        if not accounts.required():
            raise SignInError(
                "a release is signed: this station has no accounts yet "
                "(`microweld user NAME --role qa` makes the first)"
            )
        log = open_existing(station.qa_location(args.qa_log))
    except (ConfigError, SignInError, accounts.AccountsError, QaLogUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with log:
        welds = log.welds(lot=args.lot)
        if not welds:
            print(
                f"error: no welds of lot {escaped(args.lot)} in {shown(log.path)}", file=sys.stderr
            )
            return 2
        counts = collections.Counter(w.verdict for w in welds)
        summary = f"{len(welds)} welds, log ids {welds[0].id}-{welds[-1].id}: " + ", ".join(
            f"{n} {v}" for v, n in sorted(counts.items())
        )
        print(f"lot {escaped(args.lot)}: {summary}")
        for t, who, _, meaning in log.signatures("release", args.lot):
            print(f"  already signed by {escaped(who)} at {t[:19]}Z ({meaning})")
        try:
            signer = signed(args.by, "release", "--by")
        except SignInError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        assert signer is not None  # a station with accounts
        log.audit(signer.name, "release", args.lot, "", summary, accounts.ACTS["release"][1])
    print(f"lot {escaped(args.lot)} released by {signer.name}, recorded in {shown(log.path)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `user` and `release` to the microweld command line."""
    u = sub.add_parser("user", help="add, change or remove an account of the station")
    u.add_argument("name", help="the account's name (what records and signatures show)")
    u.add_argument(
        "--role",
        action="append",
        choices=accounts.ROLES,
        help="a role it holds (repeat for more): operator welds, engineer edits schedules and "
        "windows, qa signs releases and accounts",
    )
    u.add_argument("--remove", action="store_true", help="remove the account")
    u.add_argument(
        "--by", metavar="NAME", help="the qa account that signs the change (once accounts exist)"
    )
    u.add_argument("--station", default="sim", help="station whose QA log records it")
    add_qa_log(u)
    u.set_defaults(func=cmd_user)
    r = sub.add_parser("release", help="sign a lot's release (a qa account)")
    r.add_argument("--lot", required=True, help="the lot released")
    r.add_argument("--by", metavar="NAME", help="the qa account that signs it")
    r.add_argument("--station", default="sim", help="station whose QA log holds the lot")
    add_qa_log(r)
    r.set_defaults(func=cmd_release)
