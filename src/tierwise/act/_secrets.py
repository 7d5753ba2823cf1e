"""Webhook signing secrets at rest: encrypted with a key derived from the settings' secret key.

Whoever holds a copy of the database (a backup, a dump handed over for support) must not be
able to sign webhooks as Tierwise. A secret is stored as ``fernet:v1:<token>``: Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key that HKDF-SHA256 derives from
``TIERWISE_SECRET_KEY`` with a purpose label of its own, so the key that signs sessions never
encrypts anything itself. It is decrypted only to sign a request.

Rows written before encryption existed hold the secret in plain text: they are read as they
are and sealed the next time the outbox runs with the key (`seal_plain`).

Example::

    >>> stored = seal("s3cret", secret_key="k" * 32)
    >>> stored.startswith(PREFIX), unseal(stored, secret_key="k" * 32)
    (True, 's3cret')
"""

from __future__ import annotations

import base64
from typing import Final

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tierwise.act._text import MESSAGES
from tierwise.errors import ConfigError
from tierwise.store.tables import webhook_endpoints

PREFIX: Final = "fernet:v1:"
_PURPOSE: Final = b"tierwise/webhook-secrets/v1"

MESSAGES.update({
    "err.webhook_secret_key": (
        "Webhook 密钥加密保存，需要系统密钥：请设置 TIERWISE_SECRET_KEY 或运行 `tierwise init`。",
        "A webhook secret is stored encrypted with the secret key, and none is set: set "
        "TIERWISE_SECRET_KEY or run `tierwise init`.",
    ),
    "err.webhook_secret_decrypt": (
        "无法用当前的 TIERWISE_SECRET_KEY 解密 Webhook 密钥：添加该 Webhook 之后系统密钥已更换。"
        "请恢复原来的密钥，或带上密钥重新添加该 Webhook。",
        "The webhook secret cannot be decrypted with this TIERWISE_SECRET_KEY: the key changed "
        "since the webhook was added. Restore the old key, or add the webhook again with its "
        "secret.",
    ),
})  # fmt: skip


def _fernet(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def seal(secret: str, *, secret_key: str) -> str:
    """``secret`` encrypted for the store (a new random IV each time)."""
    return PREFIX + _fernet(secret_key).encrypt(secret.encode()).decode("ascii")


def unseal(stored: str, *, secret_key: str | None) -> str:
    """The secret of a stored value; a plain (older) value is returned as it is."""
    if not is_sealed(stored):
        return stored
    if not secret_key:
        raise ConfigError(
            "The webhook secret is encrypted and no secret key is set: set TIERWISE_SECRET_KEY "
            "(or keep DATA_DIR/secret.key) as when the webhook was added.",
            key="err.webhook_secret_key",
        )
    try:
        return _fernet(secret_key).decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise ConfigError(
            "The webhook secret cannot be decrypted with this TIERWISE_SECRET_KEY: the key "
            "changed since the webhook was added. Restore the old key, or add the webhook again "
            "with its secret.",
            key="err.webhook_secret_decrypt",
        ) from None


def resolve_key(secret_key: str | None) -> str | None:
    """``secret_key``, else the one the environment's settings give, else None."""
    if secret_key:
        return secret_key
    from tierwise.settings import load_settings

    try:
        return load_settings().require_secret_key()
    except ConfigError:
        return None


def seal_plain(conn: sa.Connection, *, secret_key: str) -> int:
    """Encrypt the secrets still stored in plain text; returns how many were sealed."""
    we = webhook_endpoints
    rows = conn.execute(
        sa.select(we.c.id, we.c.secret).where(
            we.c.secret.is_not(None), ~we.c.secret.startswith(PREFIX, autoescape=True)
        )
    ).all()
    for row in rows:
        conn.execute(
            we.update()
            .where(we.c.id == row.id, we.c.secret == row.secret)
            .values(secret=seal(str(row.secret), secret_key=secret_key))
        )
    return len(rows)


__all__ = ["PREFIX", "is_sealed", "resolve_key", "seal", "seal_plain", "unseal"]
