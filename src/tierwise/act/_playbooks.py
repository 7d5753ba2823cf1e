"""Which playbook applies: the published scheme's playbooks over the latest snapshot's labels.

The labels come from the latest published snapshot; the playbooks from the published scheme
(the latest version, or the shipped default), so that a manager who publishes new playbooks
changes the work at once, without waiting for a classification. Tiers are listed in
``playbooks.tiers`` from the highest priority down (A, B, C, D): complaint queues and
assignment follow that order.

Example::

    >>> books = active_playbooks(conn)                      # doctest: +SKIP
    >>> books.playbook("A").cadence_days, books.priority("A")  # doctest: +SKIP
    (30, 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from tierwise.classify._store import current_scheme, latest_snapshot
from tierwise.scheme._model import Scheme
from tierwise.scheme._playbook import Playbook, Playbooks
from tierwise.store.labelset import head_snapshot, held_at
from tierwise.store.tables import labels


@dataclass(frozen=True)
class ActiveBooks:
    """The playbooks in force and the snapshot whose labels select them."""

    snapshot_id: int
    scheme: Scheme
    books: Playbooks
    #: the latest snapshot in publication order too (its labels are the open rows)
    head: bool

    @property
    def held(self) -> sa.ColumnElement[bool]:
        """The condition on ``labels`` for the rows of the snapshot."""
        return held_at(self.snapshot_id, head=self.head)

    @property
    def dimension(self) -> str:
        return self.books.dimension

    @property
    def tiers(self) -> list[str]:
        """Tier keys, highest priority first."""
        return list(self.books.tiers)

    def playbook(self, tier: str | None) -> Playbook | None:
        return self.books.for_label(tier)

    def priority(self, tier: str | None) -> int:
        """0 for the first (highest) tier; customers without a playbook come last."""
        return self.tiers.index(tier) if tier in self.books.tiers else len(self.tiers)

    def label_text(self, tier: str | None, lang: str) -> str:
        """The tier's label as the scheme names it (``A 重点``), or the key."""
        if tier is None:
            return "-"
        dim = self.scheme.dimensions.get(self.dimension)
        label = dim.label(tier) if dim is not None else None
        return label.text(lang) if label is not None else tier


def active_playbooks(conn: sa.Connection) -> ActiveBooks | None:
    """The playbooks in force, or None before any classification or without playbooks."""
    snap = latest_snapshot(conn)
    if snap is None:
        return None
    scheme = current_scheme(conn).scheme
    if scheme.playbooks is None:
        return None
    return ActiveBooks(int(snap.id), scheme, scheme.playbooks, int(snap.id) == head_snapshot(conn))


def tier_of(conn: sa.Connection, *, books: ActiveBooks, customer_pk: int) -> str | None:
    """The customer's label in the playbook dimension of the latest snapshot."""
    value = conn.scalar(
        sa.select(labels.c.label).where(
            books.held,
            labels.c.dimension == books.dimension,
            labels.c.customer_pk == customer_pk,
        )
    )
    return None if value is None else str(value)


def tier_column(books: ActiveBooks, pk: sa.ColumnElement[int]) -> sa.ScalarSelect[str]:
    """A correlated subquery: customer ``pk``'s tier in the latest snapshot."""
    return (
        sa.select(labels.c.label)
        .where(
            books.held,
            labels.c.dimension == books.dimension,
            labels.c.customer_pk == pk,
        )
        .scalar_subquery()
    )


__all__ = ["ActiveBooks", "active_playbooks", "tier_column", "tier_of"]
