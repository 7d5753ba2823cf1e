"""The published snapshot and its scheme, as every page shows them (cached per snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from tierwise.classify import _store
from tierwise.classify._explain import label_text
from tierwise.scheme import Scheme, default_scheme_text, load_scheme
from tierwise.store.labelset import head_snapshot, held_at
from tierwise.store.tables import schemes


@dataclass(frozen=True)
class Published:
    snapshot_id: int
    as_of: date
    scheme_version: int
    published_at: datetime | None
    customers: int
    scheme: Scheme
    #: the latest snapshot in publication order too (its labels are the open rows)
    head: bool

    @property
    def held(self) -> sa.ColumnElement[bool]:
        """The condition on ``labels`` for this snapshot's rows."""
        return held_at(self.snapshot_id, head=self.head)

    def text(self, dimension: str, key: str, lang: str) -> str:
        dim = self.scheme.dimensions.get(dimension)
        return key if dim is None else label_text(dim, key, lang)

    def title(self, dimension: str, lang: str) -> str:
        dim = self.scheme.dimensions.get(dimension)
        return dimension if dim is None else dim.title.get(lang)

    def labels_of(self, dimension: str) -> list[str]:
        dim = self.scheme.dimensions.get(dimension)
        return [] if dim is None else dim.keys()

    def info(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "as_of": self.as_of.isoformat(),
            "scheme_version": self.scheme_version,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "customers": self.customers,
        }


@lru_cache(maxsize=64)
def _scheme_document(document: str) -> Scheme:
    return load_scheme(document)


def published(conn: sa.Connection) -> Published | None:
    """The published snapshot, or None before the first classification."""
    snap = _store.latest_snapshot(conn)
    if snap is None:
        return None
    if snap.scheme_id is None:
        scheme = _scheme_document(default_scheme_text())
    else:
        document = conn.scalar(sa.select(schemes.c.document).where(schemes.c.id == snap.scheme_id))
        scheme = _scheme_document(str(document))
    return Published(
        snapshot_id=int(snap.id),
        as_of=snap.as_of,
        scheme_version=int(snap.scheme_version),
        published_at=snap.published_at,
        customers=int(snap.customers or 0),
        scheme=scheme,
        head=int(snap.id) == head_snapshot(conn),
    )


def previous_snapshot_id(conn: sa.Connection, *, before: int) -> int | None:
    """The published snapshot before ``before`` (for migration since the last run)."""
    from tierwise.store.tables import snapshots

    value = conn.scalar(
        sa.select(sa.func.max(snapshots.c.id)).where(
            snapshots.c.state == "published", snapshots.c.id < before
        )
    )
    return None if value is None else int(value)


__all__ = ["Published", "previous_snapshot_id", "published"]
