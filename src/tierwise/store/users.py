"""Users and passwords (argon2id).

Usernames are compared case-insensitively: they are stored NFKC-normalised, trimmed and
lower-cased, so ``Alice``, ``alice`` and full-width ``ａｌｉｃｅ`` are one user.

Example::

    with engine.begin() as conn:
        user_id = create_user(conn, username="Alice", password=generate_password(), role="rep")
        user = get_user_by_username(conn, username="ALICE")
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tierwise.errors import DataError, NotFoundError
from tierwise.store.tables import KEY_LENGTH, ROLES, users, utcnow

MIN_PASSWORD_LENGTH: Final = 8  # OWASP ASVS 5.0 v6.2.1
MAX_PASSWORD_LENGTH: Final = 1024  # bounds the hashing work per login attempt
# no 0/O, 1/l/I: read aloud or copied from paper without mistakes
PASSWORD_ALPHABET: Final = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile
_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str | None
    email: str | None
    password_hash: str = field(repr=False)
    role: str
    manager_id: int | None
    is_active: bool
    created_at: datetime
    password_changed_at: datetime | None
    last_login_at: datetime | None


def hash_password(password: str) -> str:
    """An argon2id hash (``$argon2id$...``) of ``password`` with a random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash too."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash after login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def generate_password(length: int = 20) -> str:
    """A random password from an unambiguous alphabet (no 0/O, 1/l/I), at least 16 long.

    >>> len(generate_password())
    20
    """
    if length < 16:
        raise DataError(f"Generated passwords must be at least 16 characters long (got {length}).")
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def normalise_username(username: str) -> str:
    """The stored form of a username: NFKC, trimmed, lower-cased.

    >>> normalise_username("  Ａlice ")
    'alice'
    """
    name = unicodedata.normalize("NFKC", username).strip().lower()
    if not name or len(name) > KEY_LENGTH:
        raise DataError(
            f"Username {username!r} must have 1 to {KEY_LENGTH} characters.",
            key="err.username_length",
            value=username,
            max=KEY_LENGTH,
        )
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name):
        raise DataError(
            f"Username {username!r} contains spaces or control characters; remove them.",
            key="err.username_chars",
            value=username,
        )
    return name


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise DataError(
            f"Passwords must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters "
            f"(got {len(password)}). Use generate_password() for a strong one.",
            key="err.password_length",
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            got=len(password),
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise DataError(
            f"Role {role!r} does not exist; use one of {', '.join(ROLES)}.",
            key="err.unknown_role",
            value=role,
            known=", ".join(ROLES),
        )


def _row(mapping: sa.RowMapping) -> UserRow:
    return UserRow(**{name: mapping[name] for name in UserRow.__dataclass_fields__})


def create_user(
    conn: sa.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    email: str | None = None,
    manager_id: int | None = None,
) -> int:
    """Add a user and return its id. The caller writes the audit entry and commits.

    Raises `DataError` for a taken username (case-insensitively), an unknown role, a short
    password or a manager that does not exist.
    """
    name = normalise_username(username)
    _check_role(role)
    _check_password(password)
    if conn.scalar(sa.select(users.c.id).where(users.c.username == name)) is not None:
        raise DataError(
            f"Username {name!r} is already taken; choose another one.",
            key="err.username_taken",
            value=name,
        )
    if (
        manager_id is not None
        and conn.scalar(sa.select(users.c.id).where(users.c.id == manager_id)) is None
    ):
        raise DataError(
            f"Manager {manager_id} does not exist; create that user first.",
            key="err.unknown_manager",
            value=manager_id,
        )
    now = utcnow()
    try:
        # a savepoint, so that losing a race on the unique username leaves the caller's
        # transaction usable (PostgreSQL aborts the whole transaction on an error otherwise)
        with conn.begin_nested():
            user_id = conn.scalar(
                users.insert()
                .values(
                    username=name,
                    display_name=display_name,
                    email=email,
                    password_hash=hash_password(password),
                    role=role,
                    manager_id=manager_id,
                    is_active=True,
                    created_at=now,
                    password_changed_at=now,
                )
                .returning(users.c.id)
            )
    except sa.exc.IntegrityError as exc:
        raise DataError(
            f"Username {name!r} is already taken; choose another one.",
            key="err.username_taken",
            value=name,
        ) from exc
    assert user_id is not None
    return int(user_id)


def get_user(conn: sa.Connection, *, user_id: int) -> UserRow:
    """The user with this id; `NotFoundError` if there is none."""
    mapping = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    if mapping is None:
        raise NotFoundError(f"User {user_id} does not exist.")
    return _row(mapping)


def get_user_by_username(conn: sa.Connection, *, username: str) -> UserRow | None:
    """The user with this username (compared case-insensitively), or None."""
    try:
        name = normalise_username(username)
    except DataError:
        return None
    mapping = conn.execute(sa.select(users).where(users.c.username == name)).mappings().first()
    return None if mapping is None else _row(mapping)


def set_password(conn: sa.Connection, *, user_id: int, password: str) -> None:
    """Replace a user's password (the caller ends the user's sessions and audits)."""
    _check_password(password)
    _update(conn, user_id, password_hash=hash_password(password), password_changed_at=utcnow())


def record_login(conn: sa.Connection, *, user_id: int) -> None:
    """Remember the time of a successful login."""
    _update(conn, user_id, last_login_at=utcnow())


def _update(conn: sa.Connection, user_id: int, **values: Any) -> None:
    result = conn.execute(users.update().where(users.c.id == user_id).values(**values))
    if result.rowcount == 0:
        raise NotFoundError(f"User {user_id} does not exist.")


def count_users(conn: sa.Connection, *, active_only: bool = False) -> int:
    """How many users there are (e.g. 0 before the first admin is created)."""
    query = sa.select(sa.func.count()).select_from(users)
    if active_only:
        query = query.where(users.c.is_active.is_(True))
    return int(conn.scalar(query) or 0)


__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "UserRow",
    "count_users",
    "create_user",
    "generate_password",
    "get_user",
    "get_user_by_username",
    "hash_password",
    "normalise_username",
    "password_needs_rehash",
    "record_login",
    "set_password",
    "verify_password",
]
