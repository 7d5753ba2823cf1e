"""The customers table: names, contacts, demographics, firmographics, owners, tags.

Deliberate data-quality issues, as in a real CRM export: ~1 % duplicate records (same phone
and/or e-mail under a second id), phones in several notations and some in full-width digits,
upper-case e-mails, stray and full-width spaces in names, a few spellings of 中国, 省/市 suffixes
on some provinces and cities, and missing optional fields.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tierwise.demo import _vocab as V
from tierwise.demo._common import (
    F64,
    I64,
    STREAM_CUSTOMERS,
    B,
    Ctx,
    draw,
    lists_from_mask,
    null_where,
    pick,
    rng_for,
    to_datetime,
)
from tierwise.demo._latent import OWNERS, SOURCES, Latent
from tierwise.demo._orders import OrderSim, customer_ids

_ASCII = [chr(c) for c in range(0x21, 0x7F)]
_FULLWIDTH = [chr(c + 0xFEE0) for c in range(0x21, 0x7F)]
_DIGITS = [str(d) for d in range(10)]
_FULL_DIGITS = [chr(0xFF10 + d) for d in range(10)]


def _scramble(g: I64, mod: int) -> I64:
    """A bijection of 0..mod-1 that spreads consecutive customers over the whole range, so that
    phone numbers and e-mail numbers are unique without looking sequential."""
    mult = int(mod * 0.6180339887)
    while np.gcd(mult, mod) != 1:
        mult += 1
    return (g * mult + mod // 7) % mod


def _flat(groups: list[tuple[str, ...]]) -> tuple[tuple[str, ...], I64, I64]:
    flat = tuple(x for g in groups for x in g)
    cnt = np.array([len(g) for g in groups], dtype=np.int64)
    off = np.concatenate(([0], np.cumsum(cnt)[:-1])).astype(np.int64)
    return flat, off, cnt


def _in_group(off: I64, cnt: I64, group: I64, u: F64) -> I64:
    return off[group] + np.minimum((u * cnt[group]).astype(np.int64), cnt[group] - 1)


def _slug(s: pl.Expr) -> pl.Expr:
    return s.str.to_lowercase().str.replace_many(
        ["ü", "ö", "ä", "ß", " ", "-", ".", ","], ["ue", "oe", "ae", "ss", "", "", "", ""]
    )


def _names(lat: Latent) -> pl.DataFrame:
    ident = lat.ident
    country = np.maximum(lat.country, 0)
    given_idx = np.where(ident["male"], ident["given"], len(V.GIVEN_MALE) + ident["given"]).astype(
        np.int64
    )
    given_all = V.GIVEN_MALE + V.GIVEN_FEMALE
    first_idx = np.where(
        ident["male"], ident["en_first_m"], len(V.EN_FIRST_MALE) + ident["en_first_f"]
    ).astype(np.int64)
    last_flat, last_off, last_cnt = _flat(list(V.EN_LAST))
    last_idx = _in_group(
        last_off,
        last_cnt,
        ident["name_group"].astype(np.int64),
        ident["en_last_u"].astype(np.float64),
    )
    ind = ident["industry"].astype(np.int64)
    zh_words, zh_off, zh_cnt = _flat([i[1] for i in V.INDUSTRIES])
    en_words, en_off, en_cnt = _flat([i[2] for i in V.INDUSTRIES])
    u = ident["ind_word_u"].astype(np.float64)
    codes = [c[1] for c in V.FOREIGN]
    suf_flat, suf_off, suf_cnt = _flat([V.EN_COMPANY_SUFFIX[c] for c in codes])
    city_flat, city_off, city_cnt = _flat([tuple(c for _, c in f[3]) for f in V.FOREIGN])
    prov_flat = tuple(p for f in V.FOREIGN for p, _ in f[3])
    fcity = _in_group(city_off, city_cnt, country, ident["foreign_city_u"].astype(np.float64))
    return pl.DataFrame(
        {
            "sur": pick([s for s, _, _ in V.SURNAMES], ident["surname"].astype(np.int64)),
            "sur_py": pick([p for _, p, _ in V.SURNAMES], ident["surname"].astype(np.int64)),
            "giv": pick([g for g, _, _ in given_all], given_idx),
            "giv_py": pick([p for _, p, _ in given_all], given_idx),
            "first": pick(V.EN_FIRST_MALE + V.EN_FIRST_FEMALE, first_idx),
            "last": pick(last_flat, last_idx),
            "city": pick([c[1] for c in V.CN_CITIES], ident["city"].astype(np.int64)),
            "province": pick([c[0] for c in V.CN_CITIES], ident["city"].astype(np.int64)),
            "fcity": pick(city_flat, fcity),
            "fprovince": pick(prov_flat, fcity),
            "word": pick([w for w, _ in V.COMPANY_WORDS], ident["comp_word"].astype(np.int64)),
            "word_py": pick([p for _, p in V.COMPANY_WORDS], ident["comp_word"].astype(np.int64)),
            "ind_zh": pick(zh_words, _in_group(zh_off, zh_cnt, ind, u)),
            "ind_en": pick(en_words, _in_group(en_off, en_cnt, ind, u)),
            "suffix": pick(
                [s for s, _ in V.COMPANY_SUFFIX_ZH], ident["comp_suffix"].astype(np.int64)
            ),
            "en_prefix": pick(V.EN_COMPANY_PREFIX, ident["en_prefix"].astype(np.int64)),
            "en_suffix": pick(
                suf_flat,
                _in_group(suf_off, suf_cnt, country, ident["en_suffix_u"].astype(np.float64)),
            ),
            "style": ident["comp_style"].astype(np.int64),
            "person": ~lat.b2b,
            "english": ident["english"].astype(bool),
            "foreign": lat.foreign,
            "country": country,
        }
    )


def customer_frame(ctx: Ctx, lat: Latent, orders: OrderSim, chunk: int) -> pl.DataFrame:
    rng = rng_for(ctx.seed, chunk, STREAM_CUSTOMERS)
    n, ident = lat.n, lat.ident
    days = ctx.days
    parts = _names(lat)
    c = pl.col
    g = ident["ident_g"].astype(np.int64)
    num = pl.Series(_scramble(g, ctx.email_mod)).cast(pl.String)
    qq = pl.Series(100_000_000 + _scramble(g, 900_000_000)).cast(pl.String)
    d8 = pl.Series(_scramble(g, 10**8)).cast(pl.String).str.zfill(8)
    d7 = pl.Series(_scramble(g, 10**7)).cast(pl.String).str.zfill(7)
    parts = parts.with_columns(
        num=num,
        qq=qq,
        d8=d8,
        d7=d7,
        p3=pick(V.CN_MOBILE_PREFIXES, ident["phone_prefix"].astype(np.int64)),
        dom=pick([d for d, _ in V.CN_EMAIL_DOMAINS], ident["email_domain"].astype(np.int64)),
        en_dom=pick(
            V.EN_EMAIL_DOMAINS, ident["email_domain"].astype(np.int64) % len(V.EN_EMAIL_DOMAINS)
        ),
        tld=pick((".com", ".cn", ".com.cn"), ident["email_tld"].astype(np.int64)),
        email_style=ident["email_style"].astype(np.int64),
        phone_style=draw(rng, [0.78, 0.07, 0.05, 0.04, 0.05, 0.01], n),
        name_noise=np.where(
            lat.dup & (rng.random(n) < 0.4),
            draw(rng, [1, 1, 1], n) + 1,
            draw(rng, [0.98, 0.006, 0.007, 0.007], n),
        ),
        email_case=draw(rng, [0.95, 0.03, 0.02], n),
    )
    cn_company = (
        pl.when(c.style == 0)
        .then(pl.concat_str(c.city, c.word, c.ind_zh, c.suffix))
        .when(c.style == 1)
        .then(pl.concat_str(c.word, c.ind_zh, pl.lit("（"), c.city, pl.lit("）"), c.suffix))
        .otherwise(pl.concat_str(c.word, c.ind_zh, c.suffix))
    )
    en_company = pl.concat_str(c.en_prefix, c.ind_en, c.en_suffix, separator=" ")
    en_person = pl.concat_str(c.first, c.last, separator=" ")
    name = (
        pl.when(c.person & c.english)
        .then(en_person)
        .when(c.person)
        .then(pl.concat_str(c.sur, c.giv))
        .when(c.foreign)
        .then(en_company)
        .otherwise(cn_company)
    )
    # noise: 1 padded with spaces, 2 full-width (letters, or an ideographic space), 3 a space inside
    noisy_name = (
        pl.when(c.name_noise == 1)
        .then(pl.concat_str(pl.lit(" "), c.name, pl.lit(" ")))
        .when((c.name_noise == 2) & c.person & ~c.english)
        .then(pl.concat_str(c.sur, pl.lit("\u3000"), c.giv))
        .when(c.name_noise == 2)
        .then(c.name.str.replace_many(_ASCII, _FULLWIDTH))
        .when((c.name_noise == 3) & c.person & ~c.english)
        .then(pl.concat_str(c.sur, c.giv, separator=" "))
        .when(c.name_noise == 3)
        .then(c.name.str.replace(" ", "  ", literal=True))
        .otherwise(c.name)
    )
    email = (
        pl.when(c.person & c.english)
        .then(
            pl.concat_str(_slug(c.first), pl.lit("."), _slug(c.last), c.num, pl.lit("@"), c.en_dom)
        )
        .when(c.person & (c.email_style == 1))
        .then(pl.concat_str(c.qq, pl.lit("@qq.com")))
        .when(c.person & (c.email_style == 2))
        .then(pl.concat_str(c.giv_py, pl.lit("."), c.sur_py, c.num, pl.lit("@"), c.dom))
        .when(c.person)
        .then(pl.concat_str(c.sur_py, c.giv_py, c.num, pl.lit("@"), c.dom))
        .when(c.foreign)
        .then(
            pl.concat_str(
                _slug(c.first).str.slice(0, 1),
                _slug(c.last),
                c.num,
                pl.lit("@"),
                _slug(c.en_prefix),
                _slug(c.ind_en),
                pl.lit(".com"),
            )
        )
        .otherwise(pl.concat_str(c.sur_py, c.giv_py, c.num, pl.lit("@"), c.word_py, c.tld))
    )
    cased_email = (
        pl.when(c.email_case == 1)
        .then(c.email.str.to_uppercase())
        .when(c.email_case == 2)
        .then(pl.concat_str(c.email.str.slice(0, 1).str.to_uppercase(), c.email.str.slice(1)))
        .otherwise(c.email)
    )
    a, b = c.d8.str.slice(0, 4), c.d8.str.slice(4, 4)
    cn_phone = (
        pl.when(c.phone_style == 1)
        .then(pl.concat_str(pl.lit("+86 "), c.p3, pl.lit("-"), a, pl.lit("-"), b))
        .when(c.phone_style == 2)
        .then(pl.concat_str(c.p3, a, b, separator=" "))
        .when(c.phone_style == 3)
        .then(pl.concat_str(pl.lit("+86"), c.p3, c.d8))
        .when(c.phone_style == 4)
        .then(pl.concat_str(c.p3, a, b, separator="-"))
        .when(c.phone_style == 5)
        .then(pl.concat_str(c.p3, c.d8).str.replace_many(_DIGITS, _FULL_DIGITS))
        .otherwise(pl.concat_str(c.p3, c.d8))
    )
    x, y = c.d7.str.slice(0, 3), c.d7.str.slice(3, 4)
    foreign_phone = (
        pl.when(c.country == 0)
        .then(pl.concat_str(pl.lit("+1 415-"), x, pl.lit("-"), y))
        .when(c.country == 1)
        .then(pl.concat_str(pl.lit("+44 20 "), a, pl.lit(" "), b))
        .when(c.country == 2)
        .then(pl.concat_str(pl.lit("+49 30 "), c.d8))
        .when(c.country == 3)
        .then(pl.concat_str(pl.lit("+81 3-"), a, pl.lit("-"), b))
        .when(c.country == 4)
        .then(pl.concat_str(pl.lit("+65 9"), x, pl.lit(" "), y))
        .when(c.country == 5)
        .then(pl.concat_str(pl.lit("+61 2 "), a, pl.lit(" "), b))
        .otherwise(pl.concat_str(pl.lit("+1 416-"), x, pl.lit("-"), y))
    )
    built = parts.with_columns(name=name, email=email).with_columns(
        name=noisy_name,
        email=cased_email,
        phone=pl.when(c.foreign).then(foreign_phone).otherwise(cn_phone),
    )
    phone = built["phone"]
    email_s = built["email"]
    pad = rng.random(n)
    phone = null_where(
        pl.select(pl.when(pl.Series(pad < 0.005)).then(phone + " ").otherwise(phone)).to_series(),
        ident["phone_missing"].astype(bool),
    )
    email_s = null_where(
        pl.select(
            pl.when(pl.Series(pad > 0.995)).then(" " + email_s).otherwise(email_s)
        ).to_series(),
        ident["email_missing"].astype(bool),
    )

    person = ~lat.b2b
    male = ident["male"].astype(bool)
    gender = pick(
        ("male", "female", "unknown"), np.where(rng.random(n) < 0.04, 2, np.where(male, 0, 1))
    )
    gender = null_where(gender, lat.b2b | (rng.random(n) < 0.05))
    age = ident["age"].astype(np.float64)
    end_day = np.datetime64(ctx.end, "D")
    birthday = end_day - np.round(age * 365.25).astype("timedelta64[D]")
    bday = null_where(pl.Series(birthday), lat.b2b | (rng.random(n) < 0.4))
    occ_idx = np.where(
        age >= 60,
        V.OCCUPATIONS.index("退休"),
        np.where(age < 23, V.OCCUPATIONS.index("学生"), rng.integers(0, len(V.OCCUPATIONS) - 1, n)),
    )
    occ_idx = np.where(
        (occ_idx == V.OCCUPATIONS.index("退休")) & (age < 60),
        V.OCCUPATIONS.index("个体户"),
        occ_idx,
    )
    occupation = null_where(
        pick(V.OCCUPATIONS, occ_idx.astype(np.int64)), lat.b2b | (rng.random(n) < 0.55)
    )
    education = null_where(
        pick(V.EDUCATION, draw(rng, V.EDUCATION_WEIGHTS, n)), lat.b2b | (rng.random(n) < 0.6)
    )
    income_idx = np.clip(np.floor(lat.tier * 5 + rng.normal(0.0, 0.8, n)), 0, 4).astype(np.int64)
    income = null_where(pick(V.INCOME_BANDS, income_idx), lat.b2b | (rng.random(n) < 0.65))
    industry = null_where(
        pick([i[0] for i in V.INDUSTRIES], ident["industry"].astype(np.int64)),
        person | (rng.random(n) < 0.1),
    )
    size = null_where(
        pick(V.COMPANY_SIZES, ident["size"].astype(np.int64)), person | (rng.random(n) < 0.15)
    )

    china = np.where(rng.random(n) < 0.015, rng.integers(1, len(V.CHINA_VARIANTS), n), 0)
    country_name = pick(
        [*(f[0] for f in V.FOREIGN), *V.CHINA_VARIANTS],
        np.where(lat.foreign, lat.country, len(V.FOREIGN) + china),
    )
    plain_province = (
        ~parts["province"].is_in([*V.MUNICIPALITIES, "广西", "新疆", "内蒙古"]).to_numpy()
    )
    province = pl.select(
        pl.when(pl.Series(lat.foreign))
        .then(parts["fprovince"])
        .when(pl.Series(plain_province & (rng.random(n) < 0.02)))
        .then(parts["province"] + "省")
        .otherwise(parts["province"])
    ).to_series()
    province = null_where(province, (rng.random(n) < 0.02) | (province == "").to_numpy())
    city = pl.select(
        pl.when(pl.Series(lat.foreign))
        .then(parts["fcity"])
        .when(pl.Series(rng.random(n) < 0.02))
        .then(parts["city"] + "市")
        .otherwise(parts["city"])
    ).to_series()
    city = null_where(city, rng.random(n) < 0.03)
    source = null_where(pick(SOURCES, np.maximum(lat.source, 0)), lat.source < 0)
    owner = null_where(pick(OWNERS, np.maximum(lat.owner, 0)), lat.owner < 0)

    return pl.DataFrame(
        {
            "customer_id": customer_ids(ctx, lat.gidx),
            "name": built["name"],
            "kind": pick(("person", "company"), lat.b2b.astype(np.int64)),
            "phone": phone,
            "email": email_s,
            "gender": gender,
            "birthday": bday,
            "occupation": occupation,
            "education": education,
            "income_band": income,
            "industry": industry,
            "company_size": size,
            "country": country_name,
            "province": province,
            "city": city,
            "source": source,
            "owner": owner,
            "created_at": to_datetime(ctx, lat.created),
            "tags": _tags(rng, lat, orders, days, industry),
        }
    )


def _tags(
    rng: np.random.Generator, lat: Latent, orders: OrderSim, days: int, industry: pl.Series
) -> pl.Series:
    n = lat.n
    spend = orders.spend
    buyer = orders.n_paid > 0

    def top(mask: B, q: float) -> B:
        if not (mask & buyer).any():
            return np.zeros(n, dtype=bool)
        return mask & buyer & (spend >= np.quantile(spend[mask & buyer], q))

    r = rng.random((10, n))
    masks = {
        "VIP": top(~lat.b2b, 0.95) & (r[0] < 0.8),
        "老客户": (lat.created < days - 730) & (orders.n_paid >= 3) & (r[1] < 0.6),
        "价格敏感": (lat.need == 0) & (r[2] < 0.3),
        "重视售后": (lat.need == 2) & (r[3] < 0.25),
        "会员": ~lat.b2b & buyer & (r[4] < 0.3),
        "大客户": top(lat.b2b, 0.9) & (r[5] < 0.7),
        "经销商": (industry == "批发零售").fill_null(False).to_numpy() & (r[6] < 0.4),
        "跨境": lat.foreign & (r[7] < 0.5),
        "新客": (lat.created >= days - 60) & (r[8] < 0.5),
        "高潜力": r[9] < 0.03,
    }
    return lists_from_mask(list(masks), np.column_stack(list(masks.values())), "tags")
