"""Column types, naming convention, the metadata and the column helpers every table uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

KEY_LENGTH: Final = 128
PHONE_LENGTH: Final = 64
EMAIL_LENGTH: Final = 320
ENUM_LENGTH: Final = 32
ROW_HASH_LENGTH: Final = 32

ROLES: Final = ("admin", "manager", "rep", "analyst")
JOB_STATES: Final = ("queued", "running", "done", "failed", "interrupted")
BATCH_STATES: Final = ("running", "done", "failed", "interrupted")
SEVERITIES: Final = ("error", "warning")

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current UTC time as a naive datetime, the form every bookkeeping column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


# BIGINT on PostgreSQL; INTEGER on SQLite so that the primary key aliases the ROWID.
ID_TYPE: Final = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

KEY: Final = sa.String(KEY_LENGTH)
PHONE: Final = sa.String(PHONE_LENGTH)
EMAIL: Final = sa.String(EMAIL_LENGTH)
ENUM: Final = sa.String(ENUM_LENGTH)
NUMBER: Final[sa.Double[float]] = sa.Double()
TS: Final = sa.DateTime(timezone=False)
# SQL NULL (not JSON null) for None, so that "IS NULL" finds absent values
JSON: Final = sa.JSON(none_as_null=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _batch_id(*, nullable: bool = True, ondelete: str = "SET NULL") -> sa.Column[int]:
    return sa.Column(
        "batch_id",
        sa.BigInteger(),
        sa.ForeignKey("import_batches.id", ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


def _provenance() -> sa.Column[int]:
    """The import batch that last wrote a fact row: a plain column, no foreign key, no index.

    Nothing reads fact rows by batch and batches are never deleted, while on PostgreSQL the
    foreign key and index of ``orders.batch_id`` cost a fifth of a bulk load (1M orders: 62 s
    with them, 50 s without; bench/README.md, import).
    """
    return sa.Column("batch_id", sa.BigInteger(), nullable=True)


def _customer_fk(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="RESTRICT"),
        nullable=nullable,
        index=True,
    )


def _imported(*, facts: bool = False) -> tuple[sa.Column[Any], ...]:
    """Bookkeeping columns shared by every imported table.

    ``facts``: a table that no other table references (orders, interactions, referrals, leads,
    products) keeps its batch as `_provenance`. Customers and feedback keep the foreign key:
    SQLite can drop it only by rebuilding the table, and rebuilding a referenced table with
    foreign keys on would run the referencing tables' ON DELETE actions.
    """
    return (
        sa.Column("row_hash", sa.String(ROW_HASH_LENGTH), nullable=False),
        _provenance() if facts else _batch_id(),
        sa.Column("inserted_at", TS, nullable=False, default=utcnow),
        sa.Column("updated_at", TS, nullable=False, default=utcnow, onupdate=utcnow, index=True),
    )


__all__ = [
    "BATCH_STATES",
    "EMAIL",
    "EMAIL_LENGTH",
    "ENUM",
    "ENUM_LENGTH",
    "ID_TYPE",
    "JOB_STATES",
    "JSON",
    "KEY",
    "KEY_LENGTH",
    "NAMING_CONVENTION",
    "NUMBER",
    "PHONE",
    "PHONE_LENGTH",
    "ROLES",
    "ROW_HASH_LENGTH",
    "SEVERITIES",
    "TS",
    "metadata",
    "utcnow",
]
