"""Accounts and roles (controller/qa/accounts.py): salted hashes kept owner-only, who may do
what, and the refusals that keep a station signable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from controller.qa import accounts
from controller.qa.accounts import AccountsError, NotPermittedError

PW = "correct horse battery"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.toml"
    accounts.set_account("quinn", PW, ("qa",), path)
    accounts.set_account("ana", PW + " ana", ("operator",), path)
    accounts.set_account("eve", PW + " eve", ("operator", "engineer"), path)
    return path


def test_passwords_are_kept_as_salted_argon2id_hashes_owner_only(book: Path) -> None:
    text = book.read_text()
    assert PW not in text and text.count("$argon2id$") == 3
    assert stat.S_IMODE(book.stat().st_mode) == 0o600
    first, second = book.parent / "a.toml", book.parent / "b.toml"
    accounts.set_account("quinn", PW, ("qa",), first)
    accounts.set_account("quinn", PW, ("qa",), second)
    # the same password hashes differently each time: salted
    assert accounts.load_accounts(first)["quinn"][0] != accounts.load_accounts(second)["quinn"][0]


def test_sign_in_checks_the_password_and_the_role(book: Path) -> None:
    assert accounts.sign_in("ana", PW + " ana", "weld", book) == accounts.Account(
        "ana", ("operator",)
    )
    assert accounts.sign_in("eve", PW + " eve", "edit", book).name == "eve"
    with pytest.raises(NotPermittedError, match="ana may not change schedules or windows"):
        accounts.sign_in("ana", PW + " ana", "edit", book)
    with pytest.raises(NotPermittedError, match="an account with the qa role may"):
        accounts.sign_in("eve", PW + " eve", "release", book)
    # a wrong password and an unknown name read the same: which names exist is not told
    with pytest.raises(NotPermittedError, match="wrong name or password for ana"):
        accounts.sign_in("ana", PW, "weld", book)
    with pytest.raises(NotPermittedError, match="wrong name or password for zed"):
        accounts.sign_in("zed", PW, "weld", book)


def test_the_first_account_is_qa_and_the_last_qa_cannot_go(tmp_path: Path, book: Path) -> None:
    with pytest.raises(AccountsError, match="first account holds the qa role"):
        accounts.set_account("ana", PW, ("operator",), tmp_path / "new.toml")
    assert not (tmp_path / "new.toml").exists()
    with pytest.raises(AccountsError, match="last qa account"):
        accounts.set_account("quinn", None, (), book)
    accounts.set_account("ana", None, (), book)
    assert set(accounts.load_accounts(book)) == {"quinn", "eve"}
    with pytest.raises(AccountsError, match="no account ana"):
        accounts.set_account("ana", None, (), book)


@pytest.mark.parametrize(
    ("name", "password", "roles", "why"),
    [
        ("bo", "short", ("operator",), "12 characters"),
        ("bo", PW, ("boss",), "some of the roles"),
        ("bo", PW, (), "some of the roles"),
        ("bo\x1b[2J", PW, ("operator",), "account name"),
    ],
)
def test_bad_accounts_are_refused_naming_why(
    book: Path, name: str, password: str, roles: tuple[str, ...], why: str
) -> None:
    before = book.read_bytes()
    with pytest.raises(AccountsError, match=why):
        accounts.set_account(name, password, roles, book)
    assert book.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[accounts.ana]\nhash = "plain"\nroles = ["operator"]\n', "not an argon2 hash"),
        ('[accounts.ana]\nhash = "$argon2id$x"\nroles = ["boss"]\n', "roles must list"),
        ("[accounts\n", "accounts.toml"),
    ],
)
def test_a_damaged_accounts_file_is_refused_naming_the_file(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    with pytest.raises(AccountsError, match=why):
        accounts.load_accounts(path)


def test_a_station_without_accounts_is_open(tmp_path: Path) -> None:
    assert accounts.required(tmp_path / "none.toml") is False
