"""The product catalogue: a few hundred SKUs in eight categories, sorted by price per category."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from tierwise.demo import _vocab as V

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

N_CATEGORIES = len(V.CATEGORIES)
CATEGORY_NAMES: tuple[str, ...] = tuple(c[0] for c in V.CATEGORIES)
CAT_W_B2C = np.array([c[2] for c in V.CATEGORIES]) / sum(c[2] for c in V.CATEGORIES)
CAT_W_B2B = np.array([c[3] for c in V.CATEGORIES]) / sum(c[3] for c in V.CATEGORIES)
CAT_QTY_B2B = np.array([c[4] for c in V.CATEGORIES])


@dataclass(frozen=True)
class Catalog:
    sku: tuple[str, ...]
    name_zh: tuple[str, ...]
    name_en: tuple[str, ...]
    category: I64  # category index per SKU
    price: F64  # list price, CNY
    cost: F64  # unit cost, CNY
    companion: I64  # SKU often bought together with this one
    cat_off: I64  # first SKU of each category (SKUs are sorted by price inside a category)
    cat_cnt: I64

    @property
    def size(self) -> int:
        return len(self.sku)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "product_id": list(self.sku),
                "name": list(self.name_zh),
                "category": [CATEGORY_NAMES[c] for c in self.category],
                "price": self.price,
                "cost": self.cost,
            }
        )


def sku_count(customers: int) -> int:
    """~200 SKUs for the 3,000-customer demo, growing slowly with size (≈360 at a million)."""
    return max(8 * 6, int(60 * math.log10(max(customers, 10))))


def _shop_price(p: float) -> float:
    if p >= 100:
        return float(round(p / 10) * 10 - 1)  # 299, 1299
    return max(9.9, round(p) - 0.1)  # 39.9, 19.9


def build_catalog(rng: np.random.Generator, n_skus: int) -> Catalog:
    weights = np.array([c[2] + c[3] + 0.05 for c in V.CATEGORIES])
    counts = np.maximum(5, np.round(n_skus * weights / weights.sum())).astype(np.int64)
    skus: list[str] = []
    zh: list[str] = []
    en: list[str] = []
    items: list[str] = []
    cats: list[int] = []
    prices: list[float] = []
    costs: list[float] = []
    n_suffix = len(V.MODEL_SUFFIXES)
    for ci, (_, code, _w1, _w2, _q, item_list) in enumerate(V.CATEGORIES):
        suffix_order = [rng.permutation(n_suffix) for _ in item_list]
        rows: list[tuple[float, str, str, str, float]] = []
        for j in range(int(counts[ci])):
            item = j % len(item_list)
            variant = j // len(item_list)
            s_zh, s_en, mult = V.MODEL_SUFFIXES[int(suffix_order[item][variant % n_suffix])]
            if variant >= n_suffix:
                s_zh, s_en = (
                    f"{s_zh} {variant // n_suffix + 1}",
                    f"{s_en} {variant // n_suffix + 1}",
                )
            item_zh, item_en, typical = item_list[item]
            price = _shop_price(typical * mult * float(np.exp(rng.normal(0.0, 0.08))))
            cost = round(price * float(rng.uniform(0.55, 0.70)), 2)
            rows.append((price, f"{item_zh} {s_zh}", f"{item_en} {s_en}", item_zh, cost))
        rows.sort(key=lambda r: (r[0], r[1]))
        for k, (price, name_zh, name_en, item_zh, cost) in enumerate(rows):
            skus.append(f"{code}-{1001 + k}")
            zh.append(name_zh)
            en.append(name_en)
            items.append(item_zh)
            cats.append(ci)
            prices.append(price)
            costs.append(cost)

    category = np.array(cats, dtype=np.int64)
    cat_cnt = np.bincount(category, minlength=N_CATEGORIES).astype(np.int64)
    cat_off = np.concatenate(([0], np.cumsum(cat_cnt)[:-1])).astype(np.int64)
    by_item: dict[str, list[int]] = {}
    for i, item_name in enumerate(items):
        by_item.setdefault(item_name, []).append(i)
    companion = np.empty(len(skus), dtype=np.int64)
    for i, item_name in enumerate(items):
        partner = V.COMPANIONS.get(item_name)
        if partner in by_item:
            options = by_item[partner]
        else:
            c = cats[i]
            options = [k for k in range(int(cat_off[c]), int(cat_off[c] + cat_cnt[c])) if k != i]
        companion[i] = options[int(rng.integers(len(options)))]
    return Catalog(
        tuple(skus),
        tuple(zh),
        tuple(en),
        category,
        np.array(prices),
        np.array(costs),
        companion,
        cat_off,
        cat_cnt,
    )
