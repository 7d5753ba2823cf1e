"""Target lists from the store: the customers in scope whose labels match, for `target_list`.

Label filters narrow the customers in SQL first (one ``IN`` per dimension on the latest
snapshot's labels, one range per dimension on their scores); only the matching customers'
labels leave the database, pivoted to one column per dimension. With ``contacts`` the phone
and email come along — masked for analysts, as everywhere. The export is audited
(RELIABILITY.md: every export).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from tierwise.access._principal import Principal, mask_email, mask_phone, scope_clause
from tierwise.act._playbooks import active_playbooks
from tierwise.act._targets import Range, target_list
from tierwise.classify._explain import label_text
from tierwise.classify._store import current_scheme, latest_snapshot
from tierwise.errors import DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.labelset import labels_at
from tierwise.store.tables import customers, labels

MAX_ROWS = 1_000_000
_CONTACT_HEADERS = {"phone": ("电话", "phone"), "email": ("邮箱", "email")}


def export_targets(
    conn: sa.Connection,
    *,
    principal: Principal,
    filters: Mapping[str, Sequence[str]],
    lang: str = "zh",
    scores: Mapping[str, Range] | None = None,
    contacts: bool = False,
) -> pl.DataFrame:
    """The customers matching every ``dimension -> labels`` filter and every ``dimension ->
    Range`` of scores, ready for `write_table`; ``contacts`` adds phone and email."""
    principal.require("export")
    snap = latest_snapshot(conn)
    if snap is None:
        raise NotFoundError("No classification yet: run `tierwise classify` first.")
    scheme = current_scheme(conn).scheme
    scores = scores or {}
    unknown = sorted((set(filters) | set(scores)) - set(scheme.dimensions))
    if unknown:
        raise DataError(
            f"--where names unknown dimension(s) {', '.join(unknown)}; the scheme has "
            f"{', '.join(scheme.dimensions)}.",
            key="err.export_dimension", dimensions=", ".join(unknown),
            known=", ".join(scheme.dimensions),
        )  # fmt: skip
    where: list[sa.ColumnElement[bool]] = [scope_clause(principal)]
    for dim, keys in filters.items():
        where.append(
            sa.exists().where(
                labels_at(conn, snap.id), labels.c.customer_pk == customers.c.id,
                labels.c.dimension == dim, labels.c.label.in_(list(keys)),
            )
        )  # fmt: skip
    for dim, bounds in scores.items():
        where.append(_score_clause(labels_at(conn, snap.id), dim, bounds))
    cols = ["customer_id", "name", *(("phone", "email") if contacts else ())]
    rows = conn.execute(
        sa.select(customers.c.id, *(customers.c[c] for c in cols))
        .where(*where)
        .order_by(customers.c.customer_id)
        .limit(MAX_ROWS)
    ).all()
    pks = [int(r.id) for r in rows]
    values: dict[str, dict[int, str]] = {d: {} for d in scheme.dimensions}
    for i in range(0, len(pks), 5000):
        for r in conn.execute(
            sa.select(labels.c.customer_pk, labels.c.dimension, labels.c.label).where(
                labels_at(conn, snap.id), labels.c.customer_pk.in_(pks[i : i + 5000])
            )
        ):
            if r.dimension in values:
                values[r.dimension][int(r.customer_pk)] = r.label
    data: dict[str, Any] = {c: [getattr(r, c) for r in rows] for c in cols}
    if contacts and principal.masks_contacts:
        data["phone"] = [mask_phone(v) for v in data["phone"]]
        data["email"] = [mask_email(v) for v in data["email"]]
    for dim, found in values.items():
        data[dim] = [found.get(pk) for pk in pks]
    frame = pl.DataFrame(data, schema={k: pl.String for k in data})
    language: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    books = active_playbooks(conn)
    columns = [*cols, *scheme.dimensions]
    if books is not None and books.dimension in columns:
        # the playbook's dimension first after the name: what a target list is usually about
        columns.remove(books.dimension)
        columns.insert(len(cols), books.dimension)
    headers = {c: pair[0 if language == "zh" else 1] for c, pair in _CONTACT_HEADERS.items()}
    out = target_list(frame, scheme=scheme, filters=filters, columns=columns, lang=language,
                      headers=headers)  # fmt: skip
    described: dict[str, Any] = {"filters": dict(filters), "rows": out.height}
    if scores:
        described["scores"] = {d: [_jsonable(r.min), _jsonable(r.max)] for d, r in scores.items()}
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="export.targets",
        entity="customer", after=described,
    )  # fmt: skip
    return out


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _score_clause(
    held: sa.ColumnElement[bool], dimension: str, bounds: Range
) -> sa.ColumnElement[bool]:
    """Customers whose score on ``dimension`` lies within ``bounds`` (inclusive)."""
    low, high = bounds.min, bounds.max
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        raise DataError(
            f"The score range of {dimension} is empty: {low} is above {high}.",
            key="err.export_range", dimension=dimension, min=low, max=high,
        )  # fmt: skip
    cond = [
        held, labels.c.customer_pk == customers.c.id,
        labels.c.dimension == dimension, labels.c.score.is_not(None),
    ]  # fmt: skip
    if low is not None:
        cond.append(labels.c.score >= low)
    if high is not None:
        cond.append(labels.c.score <= high)
    return sa.exists().where(*cond)


def export_options(
    conn: sa.Connection, *, principal: Principal, lang: str = "zh"
) -> dict[str, Any]:
    """What a target list can filter on: each dimension's title and labels, and the range of
    its scores in the latest snapshot (none where the dimension has no scores)."""
    principal.require("export")
    snap = latest_snapshot(conn)
    if snap is None:
        return {"snapshot_id": None, "dimensions": []}
    scheme = current_scheme(conn).scheme
    ranges = {
        str(r.dimension): (r.low, r.high)
        for r in conn.execute(
            sa.select(labels.c.dimension, sa.func.min(labels.c.score).label("low"),
                      sa.func.max(labels.c.score).label("high"))
            .where(labels_at(conn, snap.id), labels.c.score.is_not(None))
            .group_by(labels.c.dimension)
        )
    }  # fmt: skip
    language: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    return {
        "snapshot_id": int(snap.id),
        "as_of": snap.as_of.isoformat(),
        "dimensions": [
            {
                "name": name,
                "title": dim.title.get(language),
                "labels": [{"key": k, "text": label_text(dim, k, language)} for k in dim.keys()],  # noqa: SIM118 (labels, not a dict)
                "score_min": ranges[name][0] if name in ranges else None,
                "score_max": ranges[name][1] if name in ranges else None,
            }
            for name, dim in scheme.dimensions.items()
        ],
    }


__all__ = ["export_options", "export_targets"]
