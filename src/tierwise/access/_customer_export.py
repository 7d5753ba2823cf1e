"""Exports of the customers a caller may see, with their labels (formulas neutralised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from tierwise.access._customers import CustomerFilter, _conditions
from tierwise.access._principal import Principal, mask_email, mask_phone
from tierwise.access._published import published
from tierwise.store import audit
from tierwise.store.tables import (
    customers,
    labels,
)


def export_customers(
    conn: sa.Connection,
    *,
    principal: Principal,
    filt: CustomerFilter,
    path: Path,
    lang: str = "en",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every customer matching ``filt`` in scope, with their labels, written to ``path``
    (.csv with BOM, .xlsx, .parquet; formulas neutralised). Audited."""
    from tierwise.act import write_table

    principal.require("export")
    pub = published(conn)
    where = _conditions(principal, filt, pub)
    cols = ("customer_id", "name", "kind", "phone", "email", "province", "city", "industry")
    query = sa.select(customers.c.id, *(customers.c[c] for c in cols)).where(*where)
    frame = pl.DataFrame(
        [tuple(r) for r in conn.execute(query.order_by(customers.c.id))],
        schema={"_pk": pl.Int64, **{c: pl.String for c in cols}},
        orient="row",
    )
    if principal.masks_contacts:
        frame = frame.with_columns(
            pl.col("phone").map_elements(mask_phone, return_dtype=pl.String),
            pl.col("email").map_elements(mask_email, return_dtype=pl.String),
        )
    if pub is not None and frame.height:
        long = pl.DataFrame(
            [
                tuple(r)
                for r in conn.execute(
                    sa.select(labels.c.customer_pk, labels.c.dimension, labels.c.label).where(
                        pub.held,
                        labels.c.customer_pk.in_(query.with_only_columns(customers.c.id)),
                    )
                )
            ],
            schema={"_pk": pl.Int64, "dimension": pl.String, "label": pl.String},
            orient="row",
        )
        texts = pl.DataFrame(
            [
                (name, key, pub.text(name, key, lang))
                for name, dim in pub.scheme.dimensions.items()
                for key in dim.keys()  # noqa: SIM118
            ],
            schema={"dimension": pl.String, "label": pl.String, "text": pl.String},
            orient="row",
        )
        long = long.join(texts, on=["dimension", "label"], how="left").with_columns(
            pl.coalesce("text", "label").alias("text")
        )
        # dimension names may equal profile columns ("industry"): keep them apart until renamed
        long = long.with_columns(("dim:" + pl.col("dimension")).alias("dimension"))
        wide = long.pivot(on="dimension", index="_pk", values="text")
        ordered = [f"dim:{d}" for d in pub.scheme.dimensions if f"dim:{d}" in wide.columns]
        frame = frame.join(wide.select("_pk", *ordered), on="_pk", how="left")
        renames = {d: pub.title(d[4:], lang) for d in ordered}
    else:
        renames = {}
    frame = frame.drop("_pk")
    names = {c: (headers or {}).get(c, c) for c in cols}
    taken = set(names.values())
    suffix = "（分级）" if lang == "zh" else " (class)"
    names |= {k: v + suffix if v in taken else v for k, v in renames.items()}
    frame = frame.rename({k: v for k, v in names.items() if k in frame.columns})
    write_table(frame, path)
    audit.record(
        conn,
        actor=principal.username,
        actor_id=principal.user_id,
        action="customer.export",
        entity="customer",
        after={"rows": frame.height, "file": path.name, "filter": _describe(filt)},
    )
    return {"rows": frame.height, "path": str(path)}


def _describe(filt: CustomerFilter) -> dict[str, Any]:
    return {
        k: v
        for k, v in {
            "labels": filt.labels, "owner": filt.owner, "province": filt.province,
            "industry": filt.industry, "q": filt.q,
        }.items()
        if v
    }  # fmt: skip


__all__ = ["export_customers"]
