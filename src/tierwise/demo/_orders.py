"""Orders: a BG/NBD-style purchase process with seasonality, baskets, prices and returns.

Per customer (Fader, Hardie & Lee 2005, with the MBG variant's dropout after the first purchase
too): while alive, purchases arrive as a Poisson process with rate λ ~ Gamma; after every
purchase the customer drops out with probability p ~ Beta (shifted by satisfaction). The number
of repeat purchases in the window is min(N, J) with N ~ Poisson(λ·T) and J + 1 ~ Geometric(p);
if the customer dropped out, the J purchase times are the first J order statistics of N uniforms
(the J-th is Beta(J, N − J + 1)). Times are drawn in operational time and mapped through the
seasonal calendar. Spend per order is heterogeneous per customer (price tier, basket scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tierwise.demo import _vocab as V
from tierwise.demo._calendar import place_in_day
from tierwise.demo._catalog import CAT_QTY_B2B, CAT_W_B2B, CAT_W_B2C, CATEGORY_NAMES
from tierwise.demo._common import (
    F64,
    I64,
    STREAM_ORDERS,
    USD_CNY,
    B,
    Ctx,
    draw,
    pick,
    rank_in_segment,
    rng_for,
    segment_offsets,
    to_datetime,
    zfill_ids,
)
from tierwise.demo._latent import Latent

PAID, REFUNDED, CANCELLED, RETURNED = 0, 1, 2, 3  # RETURNED: paid, one line came back later
_STATUS = ("paid", "refunded", "cancelled", "paid")
_CONSUMABLES = CATEGORY_NAMES.index("配件耗材")


def _channel_ids(names: tuple[str, ...]) -> I64:
    return np.array([V.CHANNELS.index(c) for c in names], dtype=np.int64)


@dataclass
class OrderSim:
    # one entry per order, sorted by customer then time
    cust: I64
    t: F64
    status: I64
    seq: I64  # global order number (chronological inside a chunk)
    value: F64  # order value in CNY
    off: I64  # orders of customer i are off[i]:off[i + 1]
    # per customer
    n_paid: I64
    spend: F64  # net CNY spend on paid orders
    first_t: F64  # nan without orders
    last_t: F64
    dropped: B
    # the orders table, canonical columns
    frame: pl.DataFrame


def order_id_width(total_customers: int) -> int:
    return max(7, len(str(total_customers * 40)))


def _purchase_times(rng: np.random.Generator, ctx: Ctx, lat: Latent) -> tuple[I64, F64, B]:
    n, days, cal = lat.n, ctx.days, ctx.cal
    b2b = lat.b2b
    quick = ~b2b & (rng.random(n) < 0.55)  # registered while ordering
    delay = np.where(
        b2b,
        rng.exponential(40.0, n),
        np.where(quick, rng.random(n) * 0.02, rng.exponential(25.0, n)),
    )
    t_first = lat.created + delay
    pre = lat.created < 0
    # customers from before the window: their next purchase; a quarter were gone already
    t_first[pre] = rng.exponential(1.0 / np.maximum(lat.lam[pre], 1e-6))
    gone = pre & (rng.random(n) < 0.25)
    has = lat.buyer & ~gone & (t_first < days)
    t_first = np.where(quick, t_first, place_in_day(rng, t_first, b2b, days))

    tau0 = cal.to_operational(np.clip(t_first, 0.0, days), b2b)
    tau_end = np.where(b2b, cal.s_b2b[-1], cal.s_b2c[-1])
    span = np.where(has, tau_end - tau0, 0.0)
    opportunities = rng.poisson(lat.lam * span)
    before_dropout = rng.geometric(lat.p) - 1
    x = np.where(has, np.minimum(opportunities, before_dropout), 0)
    dropped = has & (before_dropout < opportunities)
    upper = tau_end.copy()
    m = dropped & (before_dropout > 0)
    upper[m] = (
        tau0[m] + rng.beta(before_dropout[m], opportunities[m] - before_dropout[m] + 1) * span[m]
    )

    c_rep = np.repeat(np.arange(n, dtype=np.int64), x)
    u = rng.random(c_rep.shape[0])
    last = segment_offsets(x)[1:] - 1
    u[last[m]] = 1.0  # the dropout happens right after the J-th purchase
    tau = tau0[c_rep] + u * (upper[c_rep] - tau0[c_rep])
    t_rep = cal.from_operational(tau, b2b[c_rep])
    t_rep = place_in_day(rng, t_rep, b2b[c_rep], days)

    first = np.flatnonzero(has)
    cust = np.concatenate((first, c_rep))
    t = np.concatenate((t_first[first], t_rep))
    t = np.clip(t, lat.created[cust] + 2.0 / 1440.0, days - 1.0 / 86400.0)
    order = np.argsort(cust * float(days + 2) + t, kind="stable")
    return cust[order], t[order], dropped


def simulate_orders(ctx: Ctx, lat: Latent, chunk: int, seq0: int) -> OrderSim:
    rng = rng_for(ctx.seed, chunk, STREAM_ORDERS)
    cat = ctx.catalog
    n, days = lat.n, ctx.days
    oc, ot, dropped = _purchase_times(rng, ctx, lat)
    n_orders = oc.shape[0]
    counts = np.bincount(oc, minlength=n).astype(np.int64)
    off = segment_offsets(counts)

    # order-level attributes
    u = rng.random(n_orders)
    p_refund = 0.028 * np.exp(-0.35 * lat.sat[oc])
    status = np.full(n_orders, PAID, dtype=np.int64)
    status[u < 0.01] = CANCELLED
    refund = (u >= 0.01) & (u < 0.01 + p_refund)
    status[refund] = np.where(rng.random(int(refund.sum())) < 0.6, REFUNDED, RETURNED)
    foreign, b2b = lat.foreign[oc], lat.b2b[oc]
    alt = np.where(
        foreign,
        _channel_ids(V.ALT_CHANNELS_FOREIGN)[
            rng.integers(0, len(V.ALT_CHANNELS_FOREIGN), n_orders)
        ],
        np.where(
            b2b,
            _channel_ids(V.ALT_CHANNELS_B2B)[rng.integers(0, len(V.ALT_CHANNELS_B2B), n_orders)],
            _channel_ids(V.ALT_CHANNELS_B2C)[rng.integers(0, len(V.ALT_CHANNELS_B2C), n_orders)],
        ),
    )
    channel = np.where(rng.random(n_orders) < 0.85, lat.pref_channel[oc], alt)
    day = np.clip(np.floor(ot).astype(np.int64), 0, days - 1)
    p_disc = np.clip(lat.disc[oc] * ctx.cal.promo[day], 0.0, 0.95)
    level = np.array([0.95, 0.9, 0.85])[draw(rng, [0.4, 0.35, 0.25], n_orders)]
    discount = np.where(rng.random(n_orders) < p_disc, level, 1.0)
    k = (
        np.where(
            b2b,
            draw(rng, [0.55, 0.22, 0.11, 0.06, 0.04, 0.02], n_orders),
            draw(rng, [0.84, 0.12, 0.03, 0.01], n_orders),
        )
        + 1
    )

    # lines: category (favourite or by kind), SKU by the customer's price tier, companions
    lo = np.repeat(np.arange(n_orders, dtype=np.int64), k)
    lc = oc[lo]
    n_lines = lo.shape[0]
    by_kind = np.where(lat.b2b[lc], draw(rng, CAT_W_B2B, n_lines), draw(rng, CAT_W_B2C, n_lines))
    category = np.where(rng.random(n_lines) < 0.55, lat.fav_cat[lc], by_kind)
    pos = np.clip(lat.tier[lc] + rng.normal(0.0, 0.25, n_lines), 0.0, 0.9999)
    sku = cat.cat_off[category] + (pos * cat.cat_cnt[category]).astype(np.int64)
    line_rank = rank_in_segment(k)
    first_line = segment_offsets(k)[:-1][lo]
    with_companion = (line_rank == 1) & (rng.random(n_lines) < 0.5)
    sku[with_companion] = cat.companion[sku[first_line[with_companion]]]
    # one line per SKU in an order
    _, first_seen = np.unique(lo * cat.size + sku, return_index=True)
    keep = np.zeros(n_lines, dtype=bool)
    keep[first_seen] = True
    lo, lc, sku = lo[keep], lc[keep], sku[keep]
    category = cat.category[sku]
    n_lines = lo.shape[0]
    line_no = rank_in_segment(np.bincount(lo, minlength=n_orders).astype(np.int64)) + 1

    b2b_l = lat.b2b[lc]
    qty_c = draw(rng, [0.74, 0.16, 0.05, 0.02, 0.02, 0.01], n_lines) + 1
    qty_c = np.where(
        category == _CONSUMABLES, qty_c * (draw(rng, [0.5, 0.3, 0.2], n_lines) + 1), qty_c
    )
    qty_b = np.exp(np.log(CAT_QTY_B2B[category] * lat.scale[lc]) + rng.normal(0.0, 0.55, n_lines))
    qty = np.where(b2b_l, np.clip(np.round(qty_b), 1, 3000), qty_c).astype(np.int64)
    usd = lat.foreign[lc]
    fx = np.where(usd, USD_CNY, 1.0)
    unit = np.round(cat.price[sku] * discount[lo] / fx, 2)
    amount = np.round(unit * qty, 2)
    # the amount given off the list price (what an export's 优惠金额 column holds)
    given = np.maximum(np.round((np.round(cat.price[sku] / fx, 2) - unit) * qty, 2), 0.0)
    cost = np.round(cat.cost[sku] * qty / fx, 2)
    value = np.bincount(lo, weights=amount * fx, minlength=n_orders).astype(np.float64)
    lt = ot[lo]
    line_status = status[lo]

    # returns: a later "-R" order giving back the first line of a RETURNED order
    ret = np.flatnonzero((line_status == RETURNED) & (line_no == 1))
    rt = np.minimum(lt[ret] + rng.uniform(1.0, 15.0, ret.shape[0]), days - 1.0 / 86400.0)
    is_ret = np.concatenate((np.zeros(n_lines, dtype=bool), np.ones(ret.shape[0], dtype=bool)))

    def with_returns(a: np.ndarray, r: np.ndarray) -> np.ndarray:
        return np.concatenate((a, r))

    all_lo = with_returns(lo, lo[ret])
    all_t = with_returns(lt, rt)
    all_sku = with_returns(sku, sku[ret])
    all_qty = with_returns(qty, -qty[ret])
    all_unit = with_returns(unit, unit[ret])
    all_amount = with_returns(amount, -amount[ret])
    all_cost = with_returns(cost, -cost[ret])
    all_given = with_returns(given, -given[ret])
    all_status = with_returns(line_status, np.full(ret.shape[0], REFUNDED))
    all_line = with_returns(line_no, np.ones(ret.shape[0], dtype=np.int64))
    all_usd = with_returns(usd, usd[ret])

    seq = np.empty(n_orders, dtype=np.int64)
    seq[np.argsort(ot, kind="stable")] = seq0 + np.arange(n_orders, dtype=np.int64)
    all_seq = seq[all_lo]
    row = np.lexsort((all_line, all_seq, all_t))

    width = order_id_width(ctx.total)
    order_day = to_datetime(ctx, ot[all_lo[row]]).astype("datetime64[D]")
    year = order_day.astype("datetime64[Y]")
    month = order_day.astype("datetime64[M]")
    yyyymmdd = (
        (year.astype(np.int64) + 1970) * 10000
        + (month.astype(np.int64) % 12 + 1) * 100
        + (order_day - month.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    order_id = (
        "SO"
        + pl.Series(yyyymmdd * 10**width + all_seq[row]).cast(pl.String)
        + pick(("", "-R"), is_ret[row].astype(np.int64))
    )
    names = pick(cat.name_zh + cat.name_en, all_sku[row] + all_usd[row] * cat.size)
    frame = pl.DataFrame(
        {
            "order_id": order_id,
            "line_id": pl.Series(all_line[row]).cast(pl.String),
            "customer_id": customer_ids(ctx, lat.gidx[oc[all_lo[row]]]),
            "ordered_at": to_datetime(ctx, all_t[row]),
            "product_id": pick(cat.sku, all_sku[row]),
            "product_name": names,
            "category": pick(CATEGORY_NAMES, cat.category[all_sku[row]]),
            "quantity": all_qty[row],
            "unit_price": all_unit[row],
            "amount": all_amount[row],
            "cost": all_cost[row],
            "discount": all_given[row],
            "currency": pick(("CNY", "USD"), all_usd[row].astype(np.int64)),
            "channel": pick(V.CHANNELS, channel[all_lo[row]]),
            "status": pick(_STATUS, all_status[row]),
        }
    )

    paid = (status == PAID) | (status == RETURNED)
    n_paid = np.bincount(oc[paid], minlength=n).astype(np.int64)
    returned = np.bincount(lc[ret], weights=amount[ret] * fx[ret], minlength=n).astype(np.float64)
    spend = np.bincount(oc[paid], weights=value[paid], minlength=n).astype(np.float64) - returned
    has = counts > 0
    first_t = np.full(n, np.nan)
    last_t = np.full(n, np.nan)
    first_t[has] = ot[off[:-1][has]]
    last_t[has] = ot[off[1:][has] - 1]
    return OrderSim(
        cust=oc,
        t=ot,
        status=status,
        seq=seq,
        value=value,
        off=off,
        n_paid=n_paid,
        spend=spend,
        first_t=first_t,
        last_t=last_t,
        dropped=dropped,
        frame=frame,
    )


def customer_ids(ctx: Ctx, gidx: I64) -> pl.Series:
    return zfill_ids("C", gidx + 1, ctx.customer_id_width)
