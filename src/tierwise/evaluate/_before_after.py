"""Before/after a scheme (or playbook) change: the tier metrics of the snapshot before the
change and of the latest after it, with each period and the confidence in words.

Playbooks are part of the scheme, so a playbook change is a new scheme version too. Retention
and complaint rate are proportions: their difference is judged by a two-proportion z-test
(normal approximation, pooled variance), and the p-value is put in words.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from tierwise.classify._store import scheme_for_snapshot
from tierwise.errors import NotFoundError
from tierwise.evaluate._metrics import (
    _NEEDED,
    published_snapshots,
    snapshot_features,
    snapshot_tiers,
    tier_metrics,
)


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of p₁ = p₂ (z-test with pooled variance); None without data.

    >>> round(two_proportions(30, 100, 50, 100), 4)
    0.0039
    """
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var == 0:
        return 1.0
    z = (x2 / n2 - x1 / n1) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def confidence_words(p: float | None) -> dict[str, str]:
    """A p-value in words (zh/en)."""
    if p is None:
        return {"zh": "数据不足，无法判断", "en": "not enough data to judge"}
    if p < 0.01:
        return {"zh": f"高置信度（p = {p:.3f}）", "en": f"high confidence (p = {p:.3f})"}
    if p < 0.05:
        return {"zh": f"中等置信度（p = {p:.3f}）", "en": f"moderate confidence (p = {p:.3f})"}
    return {
        "zh": f"低置信度：差异可能是偶然（p = {p:.2f}）",
        "en": f"low confidence: the difference may be chance (p = {p:.2f})",
    }


def _side(
    conn: sa.Connection, data_dir: Path, snaps: list[Any], i: int, dimension: str
) -> dict[str, Any]:
    snap = snaps[i]
    prev = snaps[i - 1] if i > 0 else None
    scheme = scheme_for_snapshot(conn, snapshot=snap)
    dim = scheme.dimensions.get(dimension)
    feats = snapshot_features(data_dir, int(snap.id), list(_NEEDED))
    tiers = snapshot_tiers(conn, snapshot_id=int(snap.id), dimension=dimension)
    earlier = (
        None
        if prev is None
        else snapshot_tiers(conn, snapshot_id=int(prev.id), dimension=dimension)
    )
    rows = tier_metrics(
        tiers, feats, order=list(reversed(dim.keys())) if dim else None, previous=earlier,
        previous_as_of=None if prev is None else prev.as_of,
    )  # fmt: skip
    retained = 0
    base = 0
    if earlier is not None and prev is not None:
        joined = earlier.join(
            feats.select("customer_pk", "last_order_day"), on="customer_pk", how="left"
        )
        base = joined.height
        retained = int(
            joined.select(
                (pl.col("last_order_day").cast(pl.Date) > pl.lit(prev.as_of, dtype=pl.Date))
                .fill_null(False)
                .sum()
            ).item()
        )
    complaints = (
        int(feats.select((pl.col("complaints_total").fill_null(0) > 0).sum()).item())
        if "complaints_total" in feats.columns
        else 0
    )
    return {
        "snapshot_id": int(snap.id),
        "scheme_version": int(snap.scheme_version),
        "period": [None if prev is None else prev.as_of.isoformat(), snap.as_of.isoformat()],
        "tiers": rows,
        "retained": retained,
        "base": base,
        "complainers": complaints,
        "customers": feats.height,
    }


def before_after(
    conn: sa.Connection, *, data_dir: Path, dimension: str = "value_tier", at: date | None = None
) -> dict[str, Any]:
    """Metrics before and after the latest scheme change (or the first snapshot on/after ``at``).

    ``before``: the last snapshot under the old scheme; ``after``: the latest snapshot.
    """
    snaps = published_snapshots(conn)
    if at is not None:
        change = next((i for i, s in enumerate(snaps) if s.as_of >= at), None)
    else:
        change = next(
            (
                i
                for i in range(len(snaps) - 1, 0, -1)
                if snaps[i].scheme_version != snaps[i - 1].scheme_version
            ),
            None,
        )
    if change is None or change == 0:
        raise NotFoundError(
            "No snapshot before and after a scheme change: publish the new scheme and classify "
            "again, or give --at DATE. / 没有方案变更前后的快照：请发布新方案后再分类，或指定 --at 日期。"
        )
    before = _side(conn, data_dir, snaps, change - 1, dimension)
    after = _side(conn, data_dir, snaps, len(snaps) - 1, dimension)
    p_ret = two_proportions(before["retained"], before["base"], after["retained"], after["base"])
    p_com = two_proportions(
        before["complainers"], before["customers"], after["complainers"], after["customers"]
    )

    def rate(x: int, n: int) -> float | None:
        return None if n == 0 else x / n

    out = {
        "dimension": dimension,
        "before": before,
        "after": after,
        "retention": {
            "before": rate(before["retained"], before["base"]),
            "after": rate(after["retained"], after["base"]),
            "p_value": p_ret,
            "confidence": confidence_words(p_ret),
        },
        "complaint_rate": {
            "before": rate(before["complainers"], before["customers"]),
            "after": rate(after["complainers"], after["customers"]),
            "p_value": p_com,
            "confidence": confidence_words(p_com),
        },
    }
    out["summary"] = summary_words(out)
    return out


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def summary_words(data: dict[str, Any]) -> dict[str, str]:
    """A ``before_after`` result in one sentence per language: versions, periods, the two
    rates and how sure the difference is."""
    b, a = data["before"], data["after"]
    ret, com = data["retention"], data["complaint_rate"]

    def period(side: dict[str, Any]) -> str:
        start, end = side["period"]
        return f"{start or '…'} – {end}"

    zh = (
        f"方案版本 {b['scheme_version']} → {a['scheme_version']}"
        f"（变更前：快照 {b['snapshot_id']}，{period(b)}；变更后：快照 {a['snapshot_id']}，{period(a)}）："
        f"留存率 {_pct(ret['before'])} → {_pct(ret['after'])}，{ret['confidence']['zh']}；"
        f"投诉率 {_pct(com['before'])} → {_pct(com['after'])}，{com['confidence']['zh']}。"
    )
    en = (
        f"Scheme version {b['scheme_version']} → {a['scheme_version']} (before: snapshot "
        f"{b['snapshot_id']}, {period(b)}; after: snapshot {a['snapshot_id']}, {period(a)}): "
        f"retention {_pct(ret['before'])} → {_pct(ret['after'])}, {ret['confidence']['en']}; "
        f"complaint rate {_pct(com['before'])} → {_pct(com['after'])}, {com['confidence']['en']}."
    )
    return {"zh": zh, "en": en}


__all__ = ["before_after", "confidence_words", "summary_words", "two_proportions"]
