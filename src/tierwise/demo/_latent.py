"""Latent traits of each customer: who they are and how they will behave.

Everything observable (orders, contacts, feedback, leads) is drawn from these traits, which is
what makes the tables agree with each other: unhappy customers (low ``sat``) leave sooner and
complain more, price-sensitive ones use more discounts and lose deals on price, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierwise.demo import _vocab as V
from tierwise.demo._calendar import time_of_day
from tierwise.demo._catalog import CAT_W_B2B, CAT_W_B2C
from tierwise.demo._common import F64, I64, STREAM_LATENT, B, Ctx, draw, rng_for

SOURCES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [s for s, _ in V.SOURCES_B2C]
        + [s for s, _ in V.SOURCES_B2B]
        + [s for s, _ in V.SOURCES_FOREIGN_B2C]
        + [s for s, _ in V.SOURCES_FOREIGN_B2B]
        + [V.REFERRAL_SOURCE]
    )
)
OWNERS: tuple[str, ...] = V.REPS_B2B_CN + V.REPS_FOREIGN + V.REPS_B2C
_SOURCE_CHANNEL = np.array([V.CHANNELS.index(V.SOURCE_TO_CHANNEL[s]) for s in SOURCES])


@dataclass
class Latent:
    n: int
    gidx: I64  # global customer number, 0-based
    b2b: B
    foreign: B
    country: I64  # index into V.FOREIGN, -1 for China
    created: F64  # days since start; negative = customer before the window
    dup: B  # a second record of an earlier customer
    dup_src: I64  # local index of the original, -1 if not a duplicate
    ident: dict[str, I64 | F64 | B]  # identity draws, copied from the original for duplicates
    buyer: B
    lam: F64  # purchase rate per day while alive
    p: F64  # dropout probability after each purchase
    sat: F64  # satisfaction, standard normal
    tier: F64  # price tier 0..1 (which SKUs in a category)
    need: I64  # 0 price-sensitive, 1 feature-focused, 2 service-focused
    fav_cat: I64
    scale: F64  # B2B basket size multiplier
    disc: F64  # propensity to buy on discount
    speed: F64  # decision lag multiplier (leads)
    source: I64  # index into SOURCES, -1 missing
    pref_channel: I64  # index into V.CHANNELS
    owner: I64  # index into OWNERS, -1 none (public pool)
    referrer: I64  # local index of the referrer, -1 none
    referred_at: F64


def _created(rng: np.random.Generator, n: int, days: int) -> F64:
    """20 % existing before the window, the rest acquired at a growing rate (density 1 → 2)."""
    pre = rng.random(n) < 0.2
    u = rng.random(n)
    t = days * (np.sqrt(1.0 + 3.0 * u) - 1.0)
    t[pre] = -rng.uniform(0.0, 3 * 365.0, int(pre.sum()))
    return np.minimum(t, days - 1e-3)


def _duplicates(rng: np.random.Generator, created: F64) -> tuple[I64, I64]:
    """~1 % of records are a second record of an earlier customer (d → src)."""
    n = created.shape[0]
    is_dup = rng.random(n) < 0.011
    cand = np.flatnonzero(~is_dup)
    cand = cand[np.argsort(created[cand], kind="stable")]
    d = np.flatnonzero(is_dup)
    k = np.searchsorted(created[cand], created[d] - 1.0)
    ok = k > 0
    d = d[ok]
    src = cand[(rng.random(int(ok.sum())) * k[ok]).astype(np.int64)]
    return d.astype(np.int64), src.astype(np.int64)


def _identity(
    rng: np.random.Generator, n: int, b2b: B, foreign: B, country: I64
) -> dict[str, I64 | F64 | B]:
    male = rng.random(n) < 0.47
    given_m = draw(rng, [w for *_, w in V.GIVEN_MALE], n)
    given_f = draw(rng, [w for *_, w in V.GIVEN_FEMALE], n)
    english = foreign | (rng.random(n) < 0.02)
    name_group = np.zeros(n, dtype=np.int64)
    codes = np.array([V.FOREIGN_NAME_GROUP[c[1]] for c in V.FOREIGN])
    name_group[foreign] = codes[country[foreign]]
    last_u = rng.random(n)
    city = draw(rng, [c[3] for c in V.CN_CITIES], n)
    foreign_city_u = rng.random(n)
    ind = draw(rng, [i[3] for i in V.INDUSTRIES], n)
    return {
        "male": male,
        "surname": draw(rng, [w for *_, w in V.SURNAMES], n),
        "given": np.where(male, given_m, given_f),
        "english": english,
        "name_group": name_group,
        "en_first_m": rng.integers(0, len(V.EN_FIRST_MALE), n),
        "en_first_f": rng.integers(0, len(V.EN_FIRST_FEMALE), n),
        "en_last_u": last_u,
        "city": city,
        "foreign_city_u": foreign_city_u,
        "industry": ind,
        "ind_word_u": rng.random(n),
        "comp_word": rng.integers(0, len(V.COMPANY_WORDS), n),
        "comp_suffix": draw(rng, [w for _, w in V.COMPANY_SUFFIX_ZH], n),
        "comp_style": draw(rng, [0.7, 0.2, 0.1], n),
        "en_prefix": rng.integers(0, len(V.EN_COMPANY_PREFIX), n),
        "en_suffix_u": rng.random(n),
        "size": draw(rng, V.COMPANY_SIZE_WEIGHTS, n),
        "age": np.clip(rng.normal(35.0, 11.0, n), 18, 78),
        "phone_prefix": rng.integers(0, len(V.CN_MOBILE_PREFIXES), n),
        "email_style": draw(rng, [0.45, 0.35, 0.20], n),
        "email_domain": draw(rng, [w for _, w in V.CN_EMAIL_DOMAINS], n),
        "email_tld": rng.integers(0, 3, n),
        "email_missing": rng.random(n) < np.where(b2b, 0.10, np.where(foreign, 0.05, 0.30)),
    }


def _sigmoid(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def latent(ctx: Ctx, chunk: int, g0: int, n: int) -> Latent:
    rng = rng_for(ctx.seed, chunk, STREAM_LATENT)
    days = ctx.days
    b2b = rng.random(n) < 0.30
    foreign = rng.random(n) < np.where(b2b, 0.12, 0.035)
    country = np.where(foreign, draw(rng, [c[2] for c in V.FOREIGN], n), -1).astype(np.int64)
    created = _created(rng, n, days)
    created = np.floor(created) + time_of_day(rng, b2b)
    created = np.minimum(created, days - 1.0 / 1440.0)

    d, src = _duplicates(rng, created)
    b2b[d], foreign[d], country[d] = b2b[src], foreign[src], country[src]
    dup = np.zeros(n, dtype=bool)
    dup[d] = True
    dup_src = np.full(n, -1, dtype=np.int64)
    dup_src[d] = src
    ident = _identity(rng, n, b2b, foreign, country)
    ident["ident_g"] = (g0 + np.arange(n)).astype(np.int64)
    for arr in ident.values():
        arr[d] = arr[src]
    # which key still links the duplicate to its original: 0 phone, 1 e-mail, 2 both
    link = draw(rng, [0.45, 0.30, 0.25], n)
    ident["email_missing"][d] |= link[d] == 0
    ident["phone_missing"] = (rng.random(n) < 0.03) & ~ident["email_missing"].astype(bool)
    ident["phone_missing"][d] = (link[d] == 1) & ~ident["email_missing"][d].astype(bool)

    buyer = rng.random(n) < np.where(b2b, 0.80, 0.89)
    lam_year = np.where(
        b2b,
        rng.gamma(1.6, 8.0 / 1.6, n),
        rng.gamma(0.75, 20.0 / 0.75, n),
    )
    lam_year = np.minimum(lam_year, np.where(b2b, 80.0, 150.0))
    lam_year[d] *= 0.4
    buyer[d] &= rng.random(d.shape[0]) < 0.6
    sat = rng.normal(0.0, 1.0, n)
    p0 = np.where(b2b, rng.beta(1.0, 20.0, n), rng.beta(1.0, 11.0, n))
    p0 = np.clip(p0, 1e-4, 0.999)
    p = _sigmoid(np.log(p0 / (1.0 - p0)) - 0.8 * sat)
    need = draw(rng, [0.45, 0.30, 0.25], n)
    fav_cat = np.where(b2b, draw(rng, CAT_W_B2B, n), draw(rng, CAT_W_B2C, n))
    size_factor = np.array([0.5, 0.8, 1.2, 2.0, 3.0])[ident["size"].astype(np.int64)]
    scale = rng.gamma(2.0, 0.5, n) * size_factor
    disc = np.where(need == 0, rng.beta(3.0, 5.0, n), rng.beta(1.5, 9.0, n))
    speed = np.exp(rng.normal(0.0, 0.5, n))
    tier = rng.beta(2.2, 2.2, n)

    # referrals: happy buyers refer newer customers, some of them many
    advocate = buyer & (sat > 0.2) & (rng.random(n) < 0.3) & ~dup
    pool = np.repeat(
        np.flatnonzero(advocate), draw(rng, [5, 3, 2, 1, 0.5], int(advocate.sum())) + 1
    )
    pool = pool[np.argsort(created[pool], kind="stable")]
    referred = ~dup & (created >= 5.0) & (rng.random(n) < np.where(b2b, 0.04, 0.07))
    r_idx = np.flatnonzero(referred)
    k = np.searchsorted(created[pool], created[r_idx] - 3.0)
    ok = k > 0
    r_idx, k = r_idx[ok], k[ok]
    referrer = np.full(n, -1, dtype=np.int64)
    referrer[r_idx] = pool[(rng.random(r_idx.shape[0]) * k).astype(np.int64)]
    referred_at = np.full(n, np.nan)
    referred_at[r_idx] = np.maximum(
        created[r_idx] - rng.uniform(0.0, 7.0, r_idx.shape[0]), created[referrer[r_idx]] + 0.01
    )
    buyer[r_idx] |= rng.random(r_idx.shape[0]) < 0.5

    idx = {s: i for i, s in enumerate(SOURCES)}

    def src_draw(options: tuple[tuple[str, float], ...]) -> I64:
        return np.array([idx[s] for s, _ in options])[draw(rng, [w for _, w in options], n)]

    source = np.where(
        foreign,
        np.where(b2b, src_draw(V.SOURCES_FOREIGN_B2B), src_draw(V.SOURCES_FOREIGN_B2C)),
        np.where(b2b, src_draw(V.SOURCES_B2B), src_draw(V.SOURCES_B2C)),
    )
    pref_channel = _SOURCE_CHANNEL[source]  # referred customers still shop where they would have
    source[r_idx] = idx[V.REFERRAL_SOURCE]
    source = np.where(rng.random(n) < 0.05, -1, source)

    n_b2b, n_for, n_b2c = len(V.REPS_B2B_CN), len(V.REPS_FOREIGN), len(V.REPS_B2C)
    owner = np.where(
        foreign,
        n_b2b + rng.integers(0, n_for, n),
        np.where(
            b2b,
            rng.integers(0, n_b2b, n),
            np.where(rng.random(n) < 0.6, n_b2b + n_for + rng.integers(0, n_b2c, n), -1),
        ),
    ).astype(np.int64)

    return Latent(
        n=n,
        gidx=(g0 + np.arange(n)).astype(np.int64),
        b2b=b2b,
        foreign=foreign,
        country=country,
        created=created,
        dup=dup,
        dup_src=dup_src,
        ident=ident,
        buyer=buyer,
        lam=lam_year / 365.0,
        p=p,
        sat=sat,
        tier=tier,
        need=need,
        fav_cat=fav_cat,
        scale=scale,
        disc=disc,
        speed=speed,
        source=source.astype(np.int64),
        pref_channel=pref_channel,
        owner=owner,
        referrer=referrer,
        referred_at=referred_at,
    )
