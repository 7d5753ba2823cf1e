"""Interactions (the contact and behaviour log) and feedback (reviews, NPS, surveys, complaints).

Contacts follow value and kind: companies get calls, visits and meetings from their owner,
consumers mostly leave digital traces; high spenders are contacted more, and contact thins out
after a customer has left (a few win-back attempts remain). Feedback follows the latent
satisfaction that also drives the dropout probability, and unhappy customers who left usually
left a complaint or a bad review after their last order.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tierwise.demo import _vocab as V
from tierwise.demo._calendar import place_in_day
from tierwise.demo._common import (
    F64,
    I64,
    STREAM_FEEDBACK,
    STREAM_INTERACTIONS,
    Ctx,
    draw,
    null_where,
    pick,
    rng_for,
    segment_offsets,
    to_datetime,
    zfill_ids,
)
from tierwise.demo._latent import OWNERS, Latent
from tierwise.demo._orders import OrderSim, customer_ids

_STAFF = np.array([k in ("call", "visit", "meeting", "email", "wechat") for k in V.IA_KINDS])
_DIGITAL = np.array([k in ("web_visit", "page_view", "click", "email_open") for k in V.IA_KINDS])
_P_OUT = np.array([0.65, 0.9, 0.7, 0.5, 0.45, 1.0, 0.0, 0.0, 0.0, 0.0])
_KIND = {k: i for i, k in enumerate(V.IA_KINDS)}


def _text_table(
    pools: dict[tuple[int, int], tuple[str, ...]],
) -> tuple[tuple[str, ...], dict[tuple[int, int], tuple[int, int]]]:
    flat: list[str] = []
    where: dict[tuple[int, int], tuple[int, int]] = {}
    for key, texts in pools.items():
        where[key] = (len(flat), len(texts))
        flat.extend(texts)
    return tuple(flat), where


def _choose(
    rng: np.random.Generator, where: dict[tuple[int, int], tuple[int, int]], a: I64, b: I64
) -> I64:
    """Index of a random text in the pool of (a, b) for each row."""
    keys = np.array(sorted(where))
    code = a * 1000 + b
    key_codes = keys[:, 0] * 1000 + keys[:, 1]
    pos = np.searchsorted(key_codes, code)
    off = np.array([where[(int(k[0]), int(k[1]))][0] for k in keys])
    cnt = np.array([where[(int(k[0]), int(k[1]))][1] for k in keys])
    return off[pos] + (rng.random(a.shape[0]) * cnt[pos]).astype(np.int64)


_NOTES, _NOTE_AT = _text_table(
    {
        (lang, _KIND[k]): pool[k]
        for lang, pool in enumerate((V.IA_NOTES_ZH, V.IA_NOTES_EN))
        for k in V.IA_KINDS
    }
)


def _value_factor(lat: Latent, orders: OrderSim) -> F64:
    spend = orders.spend
    factor = np.full(lat.n, 0.4)
    for kind in (lat.b2b, ~lat.b2b):
        m = kind & (spend > 0)
        if m.any():
            factor[m] = np.clip(0.5 + np.log1p(spend[m] / np.median(spend[m])), 0.3, 4.0)
    return factor


def interactions_frame(
    ctx: Ctx, lat: Latent, orders: OrderSim, chunk: int, seq0: int
) -> pl.DataFrame:
    rng = rng_for(ctx.seed, chunk, STREAM_INTERACTIONS)
    n, days = lat.n, float(ctx.days)
    bought = ~np.isnan(orders.first_t)
    a0 = np.clip(lat.created, 0.0, days)
    life_end = np.where(
        bought,
        np.where(orders.dropped, np.minimum(orders.last_t + 90.0, days), days),
        np.minimum(a0 + 120.0, days),
    )
    rate = np.where(lat.b2b, 9.0, 3.2) * _value_factor(lat, orders) / 365.0
    n_active = rng.poisson(rate * (life_end - a0))
    n_after = rng.poisson(rate * 0.12 * (days - life_end))
    count = np.minimum(n_active + n_after, 400)
    n_active = np.minimum(n_active, count)
    cust = np.repeat(np.arange(n, dtype=np.int64), count)
    m = cust.shape[0]
    k_rank = np.arange(m) - np.repeat(segment_offsets(count)[:-1], count)
    active = k_rank < n_active[cust]
    lo = np.where(active, a0[cust], life_end[cust])
    hi = np.where(active, life_end[cust], days)
    b2b = lat.b2b[cust]
    kind = np.where(b2b, draw(rng, V.IA_WEIGHTS_B2B, m), draw(rng, V.IA_WEIGHTS_B2C, m))
    office = _STAFF[kind] & b2b
    t = place_in_day(rng, lo + rng.random(m) * (hi - lo), office, ctx.days)
    t = np.clip(t, lat.created[cust] + 1.0 / 1440.0, days - 1.0 / 86400.0)
    order = np.lexsort((cust, t))
    cust, t, kind, b2b = cust[order], t[order], kind[order], b2b[order]

    direction = np.where(rng.random(m) < _P_OUT[kind], 1, 0)
    owner = lat.owner[cust]
    agent = len(OWNERS) + rng.integers(0, len(V.SERVICE_AGENTS), m)
    by_user = np.where(_STAFF[kind], np.where(owner >= 0, owner, agent), -1)
    duration = np.select(
        [
            kind == _KIND["call"],
            kind == _KIND["visit"],
            kind == _KIND["meeting"],
            kind == _KIND["web_visit"],
        ],
        [
            np.maximum(1.0, np.round(np.exp(rng.normal(np.log(4.0), 0.8, m)))),
            np.array([30.0, 45.0, 60.0, 90.0, 120.0, 180.0])[rng.integers(0, 6, m)],
            np.array([30.0, 60.0, 90.0, 120.0])[rng.integers(0, 4, m)],
            np.maximum(1.0, np.round(np.exp(rng.normal(np.log(3.0), 0.9, m)))),
        ],
        np.nan,
    )
    lang = lat.foreign[cust].astype(np.int64)
    note = null_where(
        pick(_NOTES, _choose(rng, _NOTE_AT, lang, kind)),
        rng.random(m) < np.where(_DIGITAL[kind], 0.3, 0.1),
    )
    return pl.DataFrame(
        {
            "interaction_id": zfill_ids("IA", seq0 + np.arange(m, dtype=np.int64), 10),
            "customer_id": customer_ids(ctx, lat.gidx[cust]),
            "occurred_at": to_datetime(ctx, t),
            "kind": pick(V.IA_KINDS, kind),
            "direction": pick(("in", "out"), direction),
            "by_user": null_where(
                pick(OWNERS + V.SERVICE_AGENTS, np.maximum(by_user, 0)), by_user < 0
            ),
            "duration_min": pl.Series(duration).fill_nan(None),
            "note": note,
        }
    )


# feedback text pools: key (lang, group); groups 0..5 negative per category, 6 neutral,
# 7 positive, 8 suggestion
_NEUTRAL, _POSITIVE, _SUGGESTION = 6, 7, 8
_FB_TEXT, _FB_AT = _text_table(
    {
        **{(0, i): V.NEG_TEXT_ZH[cat] for i, cat in enumerate(V.FEEDBACK_CATEGORIES)},
        **{(1, i): V.NEG_TEXT_EN[cat] for i, cat in enumerate(V.FEEDBACK_CATEGORIES)},
        (0, _NEUTRAL): V.NEUTRAL_TEXT_ZH,
        (1, _NEUTRAL): V.NEUTRAL_TEXT_EN,
        (0, _POSITIVE): V.POS_TEXT_ZH,
        (1, _POSITIVE): V.POS_TEXT_EN,
        (0, _SUGGESTION): V.SUGGESTION_TEXT_ZH,
        (1, _SUGGESTION): V.SUGGESTION_TEXT_EN,
    }
)
FB_KINDS = ("review", "nps", "survey", "complaint", "suggestion")
_REVIEW, _NPS, _SURVEY, _COMPLAINT, _SUGGEST = range(5)


def feedback_frame(ctx: Ctx, lat: Latent, orders: OrderSim, chunk: int, seq0: int) -> pl.DataFrame:
    rng = rng_for(ctx.seed, chunk, STREAM_FEEDBACK)
    n, days = lat.n, float(ctx.days)
    n_orders = np.diff(orders.off)
    count = np.where(n_orders > 0, rng.poisson(0.12 + 0.10 * n_orders**0.6), 0)
    # unhappy customers who left mostly said so right after their last order
    unhappy_left = orders.dropped & (lat.sat < -0.3) & (rng.random(n) < 0.7)
    count = np.minimum(np.maximum(count, unhappy_left.astype(np.int64)), 15)
    cust = np.repeat(np.arange(n, dtype=np.int64), count)
    m = cust.shape[0]
    first = np.zeros(m, dtype=bool)
    first[segment_offsets(count)[:-1][count > 0]] = True
    last_order = unhappy_left[cust] & first
    anchor = orders.off[cust] + (rng.random(m) * n_orders[cust]).astype(np.int64)
    anchor = np.where(last_order, orders.off[cust + 1] - 1, anchor)
    t0 = orders.t[anchor]
    t = t0 + rng.exponential(4.0, m)
    t = np.where(t < days, t, t0 + rng.random(m) * (days - t0))
    t = np.minimum(t, days - 1.0 / 86400.0)
    sat = lat.sat[cust]
    b2b = lat.b2b[cust]

    p_complaint = np.where(last_order, 0.6, 1.0 / (1.0 + np.exp(2.9 + 1.4 * sat)))
    other = np.where(
        b2b,
        np.array([_REVIEW, _NPS, _SURVEY, _SUGGEST])[draw(rng, [0.2, 0.35, 0.35, 0.1], m)],
        np.array([_REVIEW, _NPS, _SURVEY, _SUGGEST])[draw(rng, [0.6, 0.18, 0.18, 0.04], m)],
    )
    kind = np.where(rng.random(m) < p_complaint, _COMPLAINT, other)
    kind = np.where(last_order & (kind != _COMPLAINT), _REVIEW, kind)
    shift = np.where(last_order, -1.5, 0.0)
    stars = np.clip(np.round(4.35 + 0.9 * sat + shift + rng.normal(0.0, 0.8, m)), 1, 5)
    nps = np.clip(np.round(7.8 + 1.9 * sat + 2 * shift + rng.normal(0.0, 1.3, m)), 0, 10)
    score = np.select([(kind == _REVIEW) | (kind == _SURVEY), kind == _NPS], [stars, nps], np.nan)
    negative = (
        (kind == _COMPLAINT)
        | (((kind == _REVIEW) | (kind == _SURVEY)) & (stars <= 2))
        | ((kind == _NPS) & (nps <= 6))
    )
    positive = (((kind == _REVIEW) | (kind == _SURVEY)) & (stars >= 4)) | (
        (kind == _NPS) & (nps >= 9)
    )
    weights = np.array(V.NEG_CATEGORY_WEIGHTS)
    cdf = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    category = (rng.random((m, 1)) > cdf[lat.need[cust]]).sum(axis=1).astype(np.int64)
    group = np.select(
        [negative, positive, kind == _SUGGEST], [category, _POSITIVE, _SUGGESTION], _NEUTRAL
    )
    lang = (lat.foreign[cust] | (rng.random(m) < 0.05)).astype(np.int64)
    text = pick(_FB_TEXT, _choose(rng, _FB_AT, lang, group))
    multiline = (kind == _COMPLAINT) & (lang == 0) & (rng.random(m) < 0.01)
    text = pl.select(
        pl.when(pl.Series(multiline)).then(pl.lit(V.MULTILINE_COMPLAINT)).otherwise(text)
    ).to_series()
    no_text = np.where(
        (kind == _NPS) | (kind == _SURVEY), 0.45, np.where(kind == _REVIEW, 0.15, 0.0)
    )
    text = null_where(text, rng.random(m) < no_text)

    recent = t > days - 14.0
    complaint = kind == _COMPLAINT
    status = np.where(recent, draw(rng, [0.4, 0.35, 0.25], m), draw(rng, [0.03, 0.04, 0.93], m))
    resolve = t + np.exp(rng.normal(np.log(2.0), 0.9, m))
    status = np.where((status == 2) & (resolve >= days), 1, status)
    resolved = complaint & (status == 2)
    order = np.lexsort((cust, t))

    def o(a: np.ndarray) -> np.ndarray:
        return a[order]

    return pl.DataFrame(
        {
            "feedback_id": zfill_ids("FB", seq0 + np.arange(m, dtype=np.int64), 9),
            "customer_id": customer_ids(ctx, lat.gidx[o(cust)]),
            "received_at": to_datetime(ctx, o(t)),
            "kind": pick(FB_KINDS, o(kind)),
            "score": pl.Series(o(score)).fill_nan(None),
            "text": text.gather(order),
            "category": null_where(pick(V.FEEDBACK_CATEGORIES, o(category)), ~o(negative)),
            "status": null_where(
                pick(("open", "in_progress", "resolved"), o(status)), ~o(complaint)
            ),
            "resolved_at": null_where(
                pl.Series(to_datetime(ctx, o(np.where(resolved, resolve, 0.0)))), ~o(resolved)
            ),
        }
    )
