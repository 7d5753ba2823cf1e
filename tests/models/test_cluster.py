"""Behaviour clusters: recovery on separated blobs, stable keys, descriptions, degenerate data,
and the same sample and assignment on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pytest

from tierwise.engine import arrow_schema, from_arrow
from tierwise.features import build_features
from tierwise.models._base import ModelFitError, NotFittedError
from tierwise.models._cluster import BehaviourClusters, ClusterFitError, sample_features

# tests/models has a conftest of its own, which shadows the name ``conftest``
_spec = importlib.util.spec_from_file_location(
    "tierwise_tests_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
toy_tables = _root.toy_tables

FEATS = ("recency_days", "frequency", "monetary_total")
AS_OF = dt.date(2024, 6, 30)


def blobs(
    means: dict[str, tuple[float, float, float]], n: int = 60, seed: int = 0, start: int = 1
) -> pl.DataFrame:
    """``n`` customers per blob; means are log1p(recency_days), frequency, log1p(monetary)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[Any]] = {"customer_pk": [], "blob": [], **{f: [] for f in FEATS}}
    pk = start
    for name, (rec, freq, money) in means.items():
        for _ in range(n):
            rows["customer_pk"].append(pk)
            rows["blob"].append(name)
            rows["recency_days"].append(float(np.expm1(rec + rng.normal(0, 0.05))))
            rows["frequency"].append(max(0, round(freq + rng.normal(0, 0.3))))
            rows["monetary_total"].append(float(np.expm1(money + rng.normal(0, 0.05))))
            pk += 1
    return pl.DataFrame(rows)


# log1p(recency), frequency, log1p(monetary): four groups far apart in the standardised space
FOUR = {
    "whales": (1.5, 12.0, 9.0),
    "sleepers": (6.0, 1.0, 7.5),
    "regulars": (3.0, 6.0, 6.0),
    "tourists": (5.5, 0.0, 3.5),
}


def purity(model: BehaviourClusters, data: pl.DataFrame) -> dict[str, set[str]]:
    keys = model.predict(data)
    out: dict[str, set[str]] = {}
    for blob, key in zip(data.get_column("blob").to_list(), keys, strict=True):
        out.setdefault(blob, set()).add(key)
    return out


def test_kmeans_recovers_four_separated_blobs() -> None:
    data = blobs(FOUR)
    model = BehaviourClusters(features=FEATS, k_min=2, k_max=7).fit(data)
    assert model.k_ == 4
    assert max(model.scores_, key=lambda k: model.scores_[k]) == 4
    members = purity(model, data)
    # every blob is one cluster, and no two blobs share one
    assert all(len(keys) == 1 for keys in members.values())
    assert len(set.union(*members.values())) == 4
    assert model.sizes_ == {"c1": 60, "c2": 60, "c3": 60, "c4": 60}


def test_gmm_recovers_four_separated_blobs_by_bic() -> None:
    data = blobs(FOUR)
    model = BehaviourClusters(features=FEATS, k_min=2, k_max=6, method="gmm").fit(data)
    assert model.k_ == 4
    assert min(model.scores_, key=lambda k: model.scores_[k]) == 4
    assert all(len(keys) == 1 for keys in purity(model, data).values())


def test_a_larger_sample_is_cut_to_sample_size() -> None:
    model = BehaviourClusters(features=FEATS, k_min=4, k_max=4, sample_size=100).fit(blobs(FOUR))
    assert sum(model.sizes_.values()) == 100
    assert model.get_params()["sample_size"] == 100


def test_first_run_keys_go_by_centroid_spend_descending() -> None:
    data = blobs(FOUR)
    model = BehaviourClusters(features=FEATS, k_min=4, k_max=4).fit(data)
    members = purity(model, data)
    # spend: whales 9.0 > sleepers 7.5 > regulars 6.0 > tourists 3.5
    assert [members[b] for b in ("whales", "sleepers", "regulars", "tourists")] == [
        {"c1"},
        {"c2"},
        {"c3"},
        {"c4"},
    ]


def test_descriptions_name_the_most_distinctive_features_in_zh_and_en() -> None:
    data = blobs(FOUR)
    model = BehaviourClusters(features=FEATS, k_min=4, k_max=4).fit(data)
    whales = model.descriptions_["c1"]
    assert set(whales["zh"].split("、")) == {"高消费", "高频复购", "近期活跃"}
    assert set(whales["en"].split(", ")) == {
        "high spend",
        "frequent repeat buyers",
        "recently active",
    }
    tourists = model.descriptions_["c4"]
    assert "低消费" in tourists["zh"] and "low spend" in tourists["en"]


def test_explain_names_the_clusters_features_for_one_customer() -> None:
    data = blobs(FOUR)
    model = BehaviourClusters(features=FEATS, k_min=4, k_max=4).fit(data)
    out = model.explain({"recency_days": 3.0, "frequency": 12, "monetary_total": 8000.0}, "zh")
    assert out["cluster"] == "c1"
    assert out["description"] == model.descriptions_["c1"]["zh"]
    assert {f["feature"] for f in out["features"]} == set(FEATS)
    assert {f["name"] for f in out["features"]} >= {"累计消费"}


def test_same_rows_in_another_order_give_identical_centroids_and_keys() -> None:
    data = blobs(FOUR)
    shuffled = data.sample(fraction=1.0, shuffle=True, seed=7)
    a = BehaviourClusters(features=FEATS, k_min=2, k_max=6).fit(data)
    b = BehaviourClusters(features=FEATS, k_min=2, k_max=6).fit(shuffled)
    assert a.keys_ == b.keys_
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.to_dict() == b.to_dict()


def test_previous_run_keeps_keys_although_the_spend_order_changed() -> None:
    first = BehaviourClusters(features=FEATS, k_min=3, k_max=3).fit(
        blobs({"a": (1.5, 2.0, 8.0), "b": (5.0, 10.0, 7.6), "c": (4.0, 0.0, 3.0)})
    )
    # a month later: b now spends a little more than a, on other customers, shuffled
    later = blobs({"a": (1.6, 2.0, 7.4), "b": (5.0, 10.0, 7.8), "c": (4.1, 0.0, 3.2)}, seed=3)
    later = later.with_columns(pl.col("customer_pk") + 1000).sample(
        fraction=1.0, shuffle=True, seed=1
    )
    fresh = BehaviourClusters(features=FEATS, k_min=3, k_max=3).fit(later)
    kept = BehaviourClusters(features=FEATS, k_min=3, k_max=3).fit(later, previous=first)
    assert {b: k for b, (k,) in purity(fresh, later).items()} == {"b": "c1", "a": "c2", "c": "c3"}
    assert {b: k for b, (k,) in purity(kept, later).items()} == {"a": "c1", "b": "c2", "c": "c3"}
    # a saved model works as well as a fitted one
    saved = json.loads(json.dumps(first.to_dict()))
    again = BehaviourClusters(features=FEATS, k_min=3, k_max=3).fit(later, previous=saved)
    assert again.keys_ == kept.keys_


def test_a_new_cluster_gets_a_fresh_key() -> None:
    three = {"a": (1.5, 2.0, 8.0), "b": (5.0, 10.0, 6.0), "c": (4.0, 0.0, 3.0)}
    first = BehaviourClusters(features=FEATS, k_min=3, k_max=3).fit(blobs(three))
    data = blobs({**three, "d": (6.5, 5.0, 10.0)}, seed=5)
    later = BehaviourClusters(features=FEATS, k_min=4, k_max=4).fit(data, previous=first)
    before = {b: k for b, (k,) in purity(first, blobs(three)).items()}
    after = {b: k for b, (k,) in purity(later, data).items()}
    assert after == {**before, "d": "c4"}
    assert later.next_key_ == 5


def test_too_few_customers_is_a_model_fit_error_in_zh_and_en() -> None:
    data = blobs(FOUR, n=3)  # 12 customers; 3 clusters need at least 15
    with pytest.raises(ModelFitError) as err:
        BehaviourClusters(features=FEATS, k_min=3).fit(data)
    assert isinstance(err.value, ClusterFitError)
    assert err.value.reason == "too_few_customers"
    assert "12 customers" in err.value.text("en")
    assert "12 位客户" in err.value.text("zh")


def test_constant_and_empty_features_are_dropped_with_a_reason() -> None:
    data = blobs(FOUR).with_columns(
        complaints_total=pl.lit(0), spend_trend=pl.lit(None, dtype=pl.Float64)
    )
    model = BehaviourClusters(
        features=(*FEATS, "complaints_total", "spend_trend"), k_min=4, k_max=4
    ).fit(data)
    assert model.features_ == FEATS
    assert model.dropped_features_ == {
        "complaints_total": {"zh": "所有客户取值相同", "en": "the same for every customer"},
        "spend_trend": {"zh": "全部为空", "en": "no values"},
    }


def test_only_constant_or_empty_features_is_a_model_fit_error() -> None:
    data = pl.DataFrame(
        {
            "customer_pk": range(100),
            "frequency": [2] * 100,
            "monetary_total": [None] * 100,
        },
        schema_overrides={"monetary_total": pl.Float64},
    )
    with pytest.raises(ModelFitError) as err:
        BehaviourClusters(features=("frequency", "monetary_total")).fit(data)
    assert err.value.reason == "no_usable_features"
    assert "所有特征都为空或取值相同" in err.value.text("zh")


def test_identical_customers_cannot_make_three_clusters() -> None:
    data = pl.DataFrame({"customer_pk": range(50), "frequency": [1, 2] * 25})
    with pytest.raises(ModelFitError) as err:
        BehaviourClusters(features=("frequency",), k_min=3).fit(data)
    assert err.value.reason == "too_few_customers"
    assert "2 distinct" in str(err.value)


def test_assign_before_fit_says_what_to_call() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BehaviourClusters().assign(build_features(from_arrow(toy_tables()).tables, AS_OF))


def test_saved_model_round_trips_through_json() -> None:
    model = BehaviourClusters(features=FEATS, k_min=2, k_max=5).fit(blobs(FOUR))
    text = json.dumps(model.to_dict())
    back = BehaviourClusters.from_dict(json.loads(text))
    assert back.to_dict() == model.to_dict()
    assert back.predict(blobs(FOUR, seed=9)) == model.predict(blobs(FOUR, seed=9))


# --- on the engines ---------------------------------------------------------------------------


def many_customers(n: int = 120) -> dict[str, object]:
    """toy_tables() with ``n`` customers, each with a few orders of its own rhythm and spend."""
    data = toy_tables()
    base = dt.datetime(2023, 1, 1, 9)
    customers = {
        "id": list(range(1, n + 1)),
        "customer_pk": list(range(1, n + 1)),
        "customer_id": [f"C{i}" for i in range(1, n + 1)],
        "created_at": [base] * n,
    }
    orders: dict[str, list[Any]] = {
        k: [] for k in ("id", "customer_pk", "order_id", "ordered_at", "amount", "status")
    }
    oid = 1
    for pk in range(1, n + 1):
        for j in range(pk % 5 + 1):
            orders["id"].append(oid)
            orders["customer_pk"].append(pk)
            orders["order_id"].append(f"O{oid}")
            orders["ordered_at"].append(base + dt.timedelta(days=(pk * 37 + j * 41) % 540))
            orders["amount"].append(float(10 * (pk % 7 + 1) * (j + 1)))
            orders["status"].append("paid")
            oid += 1

    def frame(table: str, cols: dict[str, list[Any]]) -> object:
        schema = arrow_schema(table)
        full = {f.name: cols.get(f.name, [None] * len(cols["id"])) for f in schema}
        return pl.DataFrame(full).to_arrow().cast(schema)

    data["customers"] = frame("customers", customers)
    data["orders"] = frame("orders", orders)
    return data


ENGINE_FEATS = ("recency_days", "frequency", "monetary_total", "interactions_90d")


def test_sample_is_deterministic_and_depends_on_the_seed() -> None:
    features = build_features(from_arrow(many_customers()).tables, AS_OF)
    a = sample_features(features, ENGINE_FEATS, 30, seed=1)
    assert a.height == 30
    assert a.columns == ["customer_pk", *ENGINE_FEATS]
    assert a.get_column("customer_pk").is_sorted()
    assert a.equals(sample_features(features, ENGINE_FEATS, 30, seed=1))
    b = sample_features(features, ENGINE_FEATS, 30, seed=2)
    assert set(a.get_column("customer_pk")) != set(b.get_column("customer_pk"))
    # not simply the first or the last keys
    assert a.get_column("customer_pk").max() > 30 and a.get_column("customer_pk").min() < 91


def _engine_model(method: Literal["kmeans", "gmm"] = "kmeans") -> BehaviourClusters:
    sample = sample_features(
        build_features(from_arrow(many_customers()).tables, AS_OF), ENGINE_FEATS, 100, seed=0
    )
    return BehaviourClusters(features=ENGINE_FEATS, k_min=3, k_max=5, method=method).fit(sample)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_assign_on_the_engine_matches_predict_in_numpy(method: Literal["kmeans", "gmm"]) -> None:
    model = _engine_model(method)
    features = build_features(from_arrow(many_customers()).tables, AS_OF)
    out = model.assign(features).to_polars().sort("customer_pk")
    rows = features.select("customer_pk", *ENGINE_FEATS).to_polars().sort("customer_pk")
    keys = model.predict(rows)
    assert out.get_column("cluster").to_list() == keys
    assert out.height == 120
    # the Euclidean distance to the assigned centroid, in the standardised space
    z = model._standardise(rows.select(ENGINE_FEATS).to_numpy().astype(np.float64))
    centres = model.cluster_centers_[[model.keys_.index(k) for k in keys]]
    expected = np.sqrt(((z - centres) ** 2).sum(axis=1))
    assert np.allclose(out.get_column("distance").to_numpy(), expected, rtol=1e-9)


def _tied_model() -> BehaviourClusters:
    state = _engine_model().to_dict()
    # c2 becomes a copy of c1: every customer of either is exactly as near to both
    state["cluster_centers"][1] = list(state["cluster_centers"][0])
    return BehaviourClusters.from_dict(state)


def test_a_tie_goes_to_the_earlier_key() -> None:
    tied = _tied_model()
    features = build_features(from_arrow(many_customers()).tables, AS_OF)
    keys = set(tied.assign(features).to_polars().get_column("cluster"))
    assert "c1" in keys and "c2" not in keys


def test_every_engine_draws_the_same_sample_and_assigns_the_same_clusters(
    make_analytics: Any, engine_name: str
) -> None:
    model = _engine_model()
    ref_features = build_features(from_arrow(many_customers()).tables, AS_OF)
    features = build_features(make_analytics(many_customers()).tables, AS_OF)
    ref_sample = sample_features(ref_features, ENGINE_FEATS, 25, seed=4)
    sample = sample_features(features, ENGINE_FEATS, 25, seed=4)
    assert (
        sample.get_column("customer_pk").to_list() == ref_sample.get_column("customer_pk").to_list()
    ), engine_name
    ref = model.assign(ref_features).to_polars().sort("customer_pk")
    mine = model.assign(features).to_polars().sort("customer_pk")
    assert mine.get_column("customer_pk").to_list() == ref.get_column("customer_pk").to_list()
    assert mine.get_column("cluster").to_list() == ref.get_column("cluster").to_list()
    assert np.allclose(mine.get_column("distance"), ref.get_column("distance"), rtol=1e-12)
    tied = _tied_model()
    ref_tied = tied.assign(ref_features).to_polars().sort("customer_pk")
    mine_tied = tied.assign(features).to_polars().sort("customer_pk")
    assert mine_tied.get_column("cluster").to_list() == ref_tied.get_column("cluster").to_list()


def test_silhouettes_equal_scikit_learns_for_every_labelling() -> None:
    """One shared pass over the distances gives each k's silhouette_score, singletons and
    empty cluster indexes included."""
    from sklearn.metrics import silhouette_score

    from tierwise.models._cluster import silhouettes

    rng = np.random.default_rng(7)
    x = rng.normal(size=(1500, 4))
    x[:400] += 4.0
    labelings = {k: rng.integers(0, k, len(x)) for k in (3, 5)}
    labelings[2] = (x[:, 0] > 2.0).astype(np.intp)
    labelings[6] = np.where(np.arange(len(x)) == 0, 0, 2)  # a singleton; index 1 unused
    ours = silhouettes(x, labelings, chunk=256)
    for k, labels in labelings.items():
        assert ours[k] == pytest.approx(silhouette_score(x, labels), abs=1e-10), k
    assert silhouettes(x, {}) == {}
