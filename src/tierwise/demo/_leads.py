"""Referrals and leads (opportunities).

Won leads are tied to real B2B orders (created some weeks before the order, decided just before
it), so that decision speed and quote → order can be measured; lost and open leads come with
their stage, weaker intent signals and a lost reason that follows the customer's needs.
Prospects (customers who never ordered) and a few leads without a customer id complete the
pipeline.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tierwise.demo import _vocab as V
from tierwise.demo._calendar import time_of_day
from tierwise.demo._common import (
    F64,
    STREAM_LEADS,
    Ctx,
    draw,
    lists_from_mask,
    null_where,
    pick,
    rng_for,
    to_datetime,
    zfill_ids,
)
from tierwise.demo._latent import Latent
from tierwise.demo._orders import CANCELLED, OrderSim, customer_ids

WON, LOST, OPEN = 0, 1, 2
OUTCOMES = ("won", "lost", "open")
_WON_STAGE, _LOST_STAGE = V.STAGES_EN.index("won"), V.STAGES_EN.index("lost")


def referrals_frame(ctx: Ctx, lat: Latent, orders: OrderSim) -> pl.DataFrame:
    referred = np.flatnonzero(lat.referrer >= 0)
    referred = referred[np.argsort(lat.referred_at[referred], kind="stable")]
    return pl.DataFrame(
        {
            "referrer_id": customer_ids(ctx, lat.gidx[lat.referrer[referred]]),
            "referred_id": customer_ids(ctx, lat.gidx[referred]),
            "referred_at": to_datetime(ctx, lat.referred_at[referred]),
            "converted": orders.n_paid[referred] > 0,
        }
    )


def leads_frame(ctx: Ctx, lat: Latent, orders: OrderSim, chunk: int, seq0: int) -> pl.DataFrame:
    rng = rng_for(ctx.seed, chunk, STREAM_LEADS)
    n, days = lat.n, float(ctx.days)
    oc, ot = orders.cust, orders.t
    n_orders = np.diff(orders.off)
    first_order = np.zeros(oc.shape[0], dtype=bool)
    first_order[orders.off[:-1][n_orders > 0]] = True

    # (a) won: the deal behind some B2B orders, most first orders included
    won = (
        lat.b2b[oc]
        & (orders.status != CANCELLED)
        & (rng.random(oc.shape[0]) < np.where(first_order, 0.5, 0.05))
    )
    w_c, w_t = oc[won], ot[won]
    w_lag = lat.speed[w_c] * np.exp(rng.normal(np.log(18.0), 0.6, w_c.shape[0]))
    w_created = np.maximum(w_t - w_lag, -180.0)  # the pipeline started before the window
    w_decided = w_t - rng.random(w_c.shape[0]) * 0.5
    w_value = np.round(orders.value[won] * rng.uniform(0.8, 1.3, w_c.shape[0]), -2)

    # (b) lost and (c) open deals of B2B customers; (d) prospects' leads
    b2b_buyer = lat.b2b & (n_orders > 0)
    n_lost = np.where(b2b_buyer, rng.poisson(1.5, n), 0)
    alive = b2b_buyer & ~orders.dropped
    n_open = np.where(alive, rng.poisson(0.35, n), 0)
    prospect = (n_orders == 0) & (rng.random(n) < np.where(lat.b2b, 0.7, 0.08))
    l_c = np.repeat(np.arange(n, dtype=np.int64), n_lost)
    o_c = np.repeat(np.arange(n, dtype=np.int64), n_open)
    p_c = np.flatnonzero(prospect)
    start_c = np.maximum(lat.created, 0.0)
    l_created = start_c[l_c] + rng.random(l_c.shape[0]) * np.maximum(
        days - 20.0 - start_c[l_c], 1.0
    )
    o_created = np.maximum(days - rng.uniform(0.0, 150.0, o_c.shape[0]), start_c[o_c])
    p_created = np.clip(lat.created[p_c] + rng.uniform(-20.0, 10.0, p_c.shape[0]), 0.0, days - 1.0)
    # (e) leads nobody turned into a customer yet
    n_free = round(0.03 * n)
    f_created = rng.random(n_free) * days

    cust = np.concatenate((w_c, l_c, o_c, p_c, np.full(n_free, -1, dtype=np.int64)))
    created = np.concatenate((w_created, l_created, o_created, p_created, f_created))
    m = cust.shape[0]
    has_c = cust >= 0
    cc = np.maximum(cust, 0)
    speed = np.where(has_c, lat.speed[cc], np.exp(rng.normal(0.0, 0.5, m)))
    lag = speed * np.exp(rng.normal(np.log(25.0), 0.7, m))
    office = np.ones(m, dtype=bool)
    created = np.floor(created) + time_of_day(rng, office)  # leads are entered at work
    decided = np.floor(created + lag) + time_of_day(rng, office)
    decided = np.maximum(decided, created + 1.0 / 24.0)
    # prospects and free leads: open while recent (or stale), else lost
    outcome = np.concatenate(
        (
            np.full(w_c.shape[0], WON),
            np.full(l_c.shape[0], LOST),
            np.full(o_c.shape[0], OPEN),
            np.where(p_created > days - 120.0, OPEN, LOST),
            np.where((f_created > days - 120.0) | (rng.random(n_free) < 0.3), OPEN, LOST),
        )
    )
    outcome = np.where((outcome == LOST) & (decided >= days), OPEN, outcome)
    is_won = outcome == WON
    decided[is_won] = w_decided
    created[is_won] = np.minimum(created[is_won], w_decided - 1.0 / 24.0)
    stage = np.where(
        outcome == WON,
        _WON_STAGE,
        np.where(outcome == LOST, _LOST_STAGE, draw(rng, [0.25, 0.25, 0.2, 0.18, 0.12], m)),
    )
    typical = np.where(lat.b2b[cc], 20000.0, 3000.0)
    value = np.round(typical * np.exp(rng.normal(0.0, 0.9, m)), -2)
    value = np.maximum(np.concatenate((w_value, value[w_c.shape[0] :])), 100.0)

    # intent signals: more and stronger when the deal goes well or is far along
    strength = np.array(V.INTENT_STRENGTH)
    n_sig = np.select(
        [outcome == WON, outcome == LOST],
        [np.minimum(rng.poisson(2.0, m) + 1, 5), rng.poisson(0.9, m)],
        np.minimum(rng.poisson(0.3 + 0.6 * stage), 5),
    )
    bias = np.where(outcome == WON, 1.0, np.where(outcome == LOST, -1.0, 0.0))
    keys = rng.random((m, strength.shape[0])) ** (1.0 / np.exp(bias[:, None] * strength[None, :]))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    signals = rank < n_sig[:, None]
    need = np.where(has_c, lat.need[cc], draw(rng, [0.45, 0.3, 0.25], m))
    needs = np.zeros((m, 3), dtype=bool)
    needs[np.arange(m), need] = rng.random(m) < 0.85
    needs |= rng.random((m, 3)) < 0.12
    reason_w = np.array(
        [
            [0.45, 0.2, 0.1, 0.1, 0.05, 0.1],
            [0.15, 0.35, 0.15, 0.15, 0.1, 0.1],
            [0.15, 0.35, 0.1, 0.1, 0.2, 0.1],
        ]
    )
    reason_cdf: F64 = np.cumsum(reason_w, axis=1)
    reason = (rng.random((m, 1)) > reason_cdf[need]).sum(axis=1)
    foreign = has_c & lat.foreign[cc]
    lost_reason = pick(
        V.LOST_REASONS_ZH + V.LOST_REASONS_EN, reason + foreign * len(V.LOST_REASONS_ZH)
    )
    sources = [s for s, _ in V.LEAD_SOURCES]

    order = np.argsort(created, kind="stable")

    def o(a: np.ndarray) -> np.ndarray:
        return a[order]

    return pl.DataFrame(
        {
            "lead_id": zfill_ids("LD", seq0 + np.arange(m, dtype=np.int64), 8),
            "customer_id": null_where(customer_ids(ctx, lat.gidx[o(cc)]), ~o(has_c)),
            "created_at": to_datetime(ctx, o(created)),
            "stage": pick(V.STAGES_EN, o(stage)),
            "source": pick(sources, draw(rng, [w for _, w in V.LEAD_SOURCES], m)[order]),
            "expected_value": o(value),
            "intent_signals": lists_from_mask(V.INTENT_EN, o(signals), "intent_signals"),
            "needs": lists_from_mask(V.NEEDS_EN, o(needs), "needs"),
            "decided_at": null_where(
                pl.Series(to_datetime(ctx, o(np.where(outcome == OPEN, 0.0, decided)))),
                o(outcome == OPEN),
            ),
            "outcome": pick(OUTCOMES, o(outcome)),
            "lost_reason": null_where(lost_reason.gather(order), o(outcome != LOST)),
            "_foreign": o(foreign),
        }
    )
