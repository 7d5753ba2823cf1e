"""Users: argon2id hashes, case-insensitive unique usernames, clear refusals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwise.errors import DataError, NotFoundError
from tierwise.store import (
    count_users,
    create_user,
    generate_password,
    get_user,
    get_user_by_username,
    hash_password,
    normalise_username,
    password_needs_rehash,
    record_login,
    set_password,
    verify_password,
)
from tierwise.store.users import PASSWORD_ALPHABET

PASSWORD = "correct horse battery"


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert hashed != hash_password(PASSWORD)  # salted
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD.upper())
    assert not verify_password("not a hash", PASSWORD)
    assert not password_needs_rehash(hashed)


def test_generated_passwords_are_long_random_and_readable() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 16 and set(p) <= set(PASSWORD_ALPHABET) for p in passwords)
    assert not set("0O1lI") & set(PASSWORD_ALPHABET)
    assert len(generate_password(32)) == 32
    with pytest.raises(DataError, match="at least 16"):
        generate_password(8)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("Alice", "alice"), ("  BOB ", "bob"), ("ＣＡＲＯＬ", "carol"), ("张三", "张三")],
)
def test_usernames_are_normalised(raw: str, stored: str) -> None:
    assert normalise_username(raw) == stored


@pytest.mark.parametrize("raw", ["", "   ", "a b", "tab\tname", "x" * 129])
def test_bad_usernames_are_refused(raw: str) -> None:
    with pytest.raises(DataError, match="Username"):
        normalise_username(raw)


def test_create_and_find_user(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert count_users(conn) == 0
        boss = create_user(conn, username="Boss", password=PASSWORD, role="manager")
        rep = create_user(
            conn,
            username="Li.Lei",
            password=PASSWORD,
            role="rep",
            display_name="李雷",
            email="li.lei@example.com",
            manager_id=boss,
        )
        assert count_users(conn) == 2
    with engine.connect() as conn:
        user = get_user_by_username(conn, username="LI.LEI")
        assert user is not None
        assert (user.id, user.username, user.display_name, user.role) == (
            rep,
            "li.lei",
            "李雷",
            "rep",
        )
        assert (user.manager_id, user.is_active, user.email) == (boss, True, "li.lei@example.com")
        assert user.password_changed_at is not None and user.last_login_at is None
        assert verify_password(user.password_hash, PASSWORD)
        assert user.password_hash not in repr(user)
        assert get_user(conn, user_id=rep) == user
        assert get_user_by_username(conn, username="nobody") is None
        assert get_user_by_username(conn, username="") is None
        with pytest.raises(NotFoundError):
            get_user(conn, user_id=999)


def test_duplicate_username_is_refused_and_the_transaction_goes_on(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        create_user(conn, username="alice", password=PASSWORD, role="admin")
        with pytest.raises(DataError, match="'alice' is already taken"):
            create_user(conn, username="ALICE", password=PASSWORD, role="rep")
        create_user(conn, username="bob", password=PASSWORD, role="analyst")
    with engine.connect() as conn:
        assert count_users(conn) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role": "superuser"}, "Role 'superuser' does not exist"),
        ({"password": "short"}, "Passwords must have 8"),
        ({"manager_id": 42}, "Manager 42 does not exist"),
    ],
)
def test_bad_users_are_refused(engine: sa.Engine, changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"username": "carol", "password": PASSWORD, "role": "rep"}
    with engine.begin() as conn, pytest.raises(DataError, match=message):
        create_user(conn, **{**values, **changes})  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert count_users(conn) == 0


def test_set_password_and_record_login(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        user_id = create_user(conn, username="dave", password=PASSWORD, role="rep")
        set_password(conn, user_id=user_id, password="a brand new secret")
        record_login(conn, user_id=user_id)
        with pytest.raises(NotFoundError):
            record_login(conn, user_id=user_id + 100)
    with engine.connect() as conn:
        user = get_user(conn, user_id=user_id)
        assert verify_password(user.password_hash, "a brand new secret")
        assert not verify_password(user.password_hash, PASSWORD)
        assert user.last_login_at is not None


def test_count_active_users(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        create_user(conn, username="erin", password=PASSWORD, role="rep")
        frank = create_user(conn, username="frank", password=PASSWORD, role="rep")
        conn.execute(
            sa.text("UPDATE users SET is_active = :no WHERE id = :id"), {"no": False, "id": frank}
        )
        assert (count_users(conn), count_users(conn, active_only=True)) == (2, 1)
