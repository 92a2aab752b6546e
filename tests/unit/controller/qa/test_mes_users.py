"""controller/qa/mes_users.py: the secured MES endpoint's users, by argon2id hash, owner-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.qa import mes_users

PASSWORD = "a long enough secret"


def test_a_user_is_kept_as_a_hash_and_checked_by_its_password(tmp_path: Path) -> None:
    path = tmp_path / "mes" / "users.toml"
    assert mes_users.load_users(path) == {}
    mes_users.set_user("mes-reader", PASSWORD, path)
    users = mes_users.load_users(path)
    assert users["mes-reader"].startswith("$argon2id$") and PASSWORD not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    assert mes_users.password_ok(users, "mes-reader", PASSWORD)
    assert not mes_users.password_ok(users, "mes-reader", PASSWORD + "!")
    assert not mes_users.password_ok(users, "admin", PASSWORD)
    mes_users.set_user("mes-reader", None, path)
    assert mes_users.load_users(path) == {}


def test_a_short_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(mes_users.MesUsersError, match="12 characters"):
        mes_users.set_user("mes-reader", "short", tmp_path / "users.toml")


def test_a_users_file_that_is_not_hashes_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text('[users]\nmes-reader = "plain text"\n')
    with pytest.raises(mes_users.MesUsersError, match=r"users\.toml"):
        mes_users.load_users(path)


def test_the_servers_key_is_made_once_owner_only(tmp_path: Path) -> None:
    key, cert = mes_users.server_key(tmp_path / "mes")
    assert key.stat().st_mode & 0o777 == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    again, _ = mes_users.server_key(tmp_path / "mes")
    assert again.read_bytes() == key.read_bytes() and cert.parent == key.parent
