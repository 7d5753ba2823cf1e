"""Sign-in, server-side sessions, API tokens and sign-in throttling (RELIABILITY.md).

Sessions and tokens are random secrets given to the client once; the store keeps only their
sha256, so a copy of the database opens nothing. A session has an idle and an absolute expiry;
signing in always starts a new one (rotation), and logout, a password change, a role change or
deactivation end every session of the user. Unknown user and wrong password get the same answer,
after the same work.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._principal import Principal, load_principal
from tierwise.errors import NotFoundError, TierwiseError
from tierwise.settings import Settings
from tierwise.store import audit
from tierwise.store.tables import KEY_LENGTH, api_tokens, login_attempts, sessions, utcnow
from tierwise.store.users import (
    get_user_by_username,
    hash_password,
    normalise_username,
    password_needs_rehash,
    record_login,
    verify_password,
)

TOKEN_PREFIX: Final = "tw_"
# touching last_seen_at on every request would write on every page view
_TOUCH_AFTER: Final = timedelta(seconds=60)
# verified when the user does not exist, so both failures cost one argon2 verification
_DUMMY_HASH: Final = hash_password(secrets.token_urlsafe(16))


class AuthError(TierwiseError):
    """Sign-in refused; the message is the same for an unknown user and a wrong password."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


@dataclass(frozen=True)
class SessionInfo:
    principal: Principal
    csrf_token: str
    session_id: str  # the stored hash, not the cookie value
    touch_due: bool = False  # last_seen_at is old enough to be written again


@dataclass(frozen=True)
class SignIn:
    token: str  # the cookie value, given to the browser once
    session: SessionInfo


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _failures_since(
    conn: sa.Connection, column: sa.ColumnElement[Any], value: str, since: datetime
) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(login_attempts)
        .where(column == value, login_attempts.c.at >= since, login_attempts.c.ok.is_(False))
    )
    return int(conn.scalar(query) or 0)


def _key(username: str) -> str:
    try:
        return normalise_username(username)
    except TierwiseError:
        return username.strip().lower()[:KEY_LENGTH] or "?"


def sign_in(
    conn: sa.Connection,
    settings: Settings,
    *,
    username: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
    previous_token: str | None = None,
) -> SignIn:
    """Check the credentials and open a new session (ending ``previous_token``'s, if any).

    Raises `AuthError` — "wrong user name or password" for both an unknown user and a wrong
    password; "too many attempts" while throttled. Failures are recorded and audited on
    ``conn``: commit the transaction even when this raises, or throttling never engages.
    """
    now = utcnow()
    key = _key(username)
    window = now - timedelta(minutes=settings.login_window_minutes)
    limit = settings.login_max_failures
    if _failures_since(conn, login_attempts.c.username, key, window) >= limit or (
        ip is not None and _failures_since(conn, login_attempts.c.ip, ip, window) >= 4 * limit
    ):
        audit.record(conn, actor=key, action="login.throttled", entity="user", entity_id=key, ip=ip)
        raise AuthError("too_many_attempts", throttled=True)
    user = get_user_by_username(conn, username=username)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password[:1024])
    ok = ok and user is not None and user.is_active
    conn.execute(login_attempts.insert().values(username=key, ip=ip, at=now, ok=ok))
    if not ok or user is None:
        audit.record(conn, actor=key, action="login.failed", entity="user", entity_id=key, ip=ip)
        raise AuthError("bad_credentials")
    if password_needs_rehash(user.password_hash):
        conn.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE id = :i"),
            {"h": hash_password(password), "i": user.id},
        )
    record_login(conn, user_id=user.id)
    conn.execute(sessions.delete().where(sessions.c.expires_at <= now))  # the sweep
    if previous_token:
        end_session(conn, token=previous_token)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        sessions.insert().values(
            id=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
            ip=ip,
            user_agent=(user_agent or "")[:500],
        )
    )
    audit.record(
        conn,
        actor=user.username,
        actor_id=user.id,
        action="login",
        entity="user",
        entity_id=user.id,
        ip=ip,
    )
    principal = load_principal(conn, user_id=user.id)
    return SignIn(token=token, session=SessionInfo(principal, csrf, _digest(token)))


def open_session(
    conn: sa.Connection, settings: Settings, *, token: str, write: bool = True
) -> SessionInfo | None:
    """The live session of a cookie value, or None (unknown, expired, idle, user deactivated).

    With ``write`` an expired or idle session is deleted and ``last_seen_at`` refreshed on the
    way; without, nothing is written (a read-only transaction: on SQLite every request would
    otherwise queue for the write lock) and ``touch_due`` says whether `touch_session` should
    run. Expired sessions are swept at sign-in.
    """
    if not token or len(token) > 256:
        return None
    now = utcnow()
    sid = _digest(token)
    row = conn.execute(sa.select(sessions).where(sessions.c.id == sid)).first()
    if row is None:
        return None
    idle = timedelta(minutes=settings.session_idle_minutes)
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        if write:
            conn.execute(sessions.delete().where(sessions.c.id == sid))
        return None
    try:
        principal = load_principal(conn, user_id=row.user_id)
    except NotFoundError:
        if write:
            conn.execute(sessions.delete().where(sessions.c.id == sid))
        return None
    due = now - row.last_seen_at >= _TOUCH_AFTER
    if due and write:
        touch_session(conn, session_id=sid)
    return SessionInfo(principal, row.csrf_token, sid, touch_due=due and not write)


def touch_session(conn: sa.Connection, *, session_id: str) -> None:
    """Record activity on a session (its idle expiry counts from now)."""
    conn.execute(sessions.update().where(sessions.c.id == session_id).values(last_seen_at=utcnow()))


def end_session(conn: sa.Connection, *, token: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.id == _digest(token)))


def end_user_sessions(conn: sa.Connection, *, user_id: int) -> int:
    """End every session of a user (logout everywhere, password or role change)."""
    return int(conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount or 0)


def create_api_token(
    conn: sa.Connection,
    *,
    principal: Principal,
    name: str,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """A new API token for the caller; the secret is in the result and nowhere else."""
    name = name.strip()
    if not name or len(name) > 200:
        raise TierwiseError("A token needs a name of 1 to 200 characters.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.scalar(
        api_tokens.insert()
        .values(
            user_id=principal.user_id,
            name=name,
            token_hash=_digest(secret),
            prefix=secret[:10],
            created_at=utcnow(),
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    )
    audit.record(
        conn,
        actor=principal.username,
        actor_id=principal.user_id,
        action="token.create",
        entity="api_token",
        entity_id=token_id,
        after={"name": name},
    )
    return {"id": int(token_id or 0), "name": name, "token": secret, "prefix": secret[:10]}


def principal_for_token(conn: sa.Connection, *, token: str, write: bool = True) -> Principal | None:
    """The user of a live (not revoked, not expired) API token, or None. With ``write`` its
    ``last_used_at`` is refreshed (at most once a minute); see `token_touch_due`."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 256:
        return None
    now = utcnow()
    row = conn.execute(
        sa.select(api_tokens.c.id, api_tokens.c.user_id, api_tokens.c.last_used_at).where(
            api_tokens.c.token_hash == _digest(token),
            api_tokens.c.revoked_at.is_(None),
            sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
        )
    ).first()
    if row is None:
        return None
    try:
        principal = load_principal(conn, user_id=row.user_id)
    except NotFoundError:
        return None
    if write and (row.last_used_at is None or now - row.last_used_at >= _TOUCH_AFTER):
        conn.execute(api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=now))
    return principal


def token_touch_due(conn: sa.Connection, *, token: str) -> bool:
    """Whether a token's ``last_used_at`` is old enough to be written again."""
    used = conn.scalar(
        sa.select(api_tokens.c.last_used_at).where(api_tokens.c.token_hash == _digest(token))
    )
    return used is None or utcnow() - used >= _TOUCH_AFTER


def list_api_tokens(conn: sa.Connection, *, principal: Principal) -> list[dict[str, Any]]:
    query = (
        sa.select(
            api_tokens.c.id,
            api_tokens.c.name,
            api_tokens.c.prefix,
            api_tokens.c.created_at,
            api_tokens.c.last_used_at,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
        )
        .where(api_tokens.c.user_id == principal.user_id)
        .order_by(api_tokens.c.id)
    )
    return [audit.jsonable(dict(r)) for r in conn.execute(query).mappings()]


def revoke_api_token(conn: sa.Connection, *, principal: Principal, token_id: int) -> None:
    result = conn.execute(
        api_tokens.update()
        .where(
            api_tokens.c.id == token_id,
            api_tokens.c.user_id == principal.user_id,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:
        raise NotFoundError(f"Token {token_id} does not exist.")
    audit.record(
        conn,
        actor=principal.username,
        actor_id=principal.user_id,
        action="token.revoke",
        entity="api_token",
        entity_id=token_id,
    )


__all__ = [
    "AuthError",
    "SessionInfo",
    "SignIn",
    "create_api_token",
    "end_session",
    "end_user_sessions",
    "list_api_tokens",
    "open_session",
    "principal_for_token",
    "revoke_api_token",
    "sign_in",
    "token_touch_due",
    "touch_session",
]
