"""Behaviour clusters: k-means (or a diagonal Gaussian mixture) on standardised features.

The model is fitted in Python on a *sample* of per-customer feature rows (``sample_features``
draws it on the engine, identically on every engine) and applied to every customer on the
engine (``assign``): the learned constants become an Ibis expression, so no customer row leaves
the engine.

Standardisation: money, count and day features are skewed (a few customers spend 1000× the
median), so they go through ``log1p`` first; then every feature is centred on its mean and
divided by its standard deviation. Mean/std rather than median/IQR because after the log the
whales no longer dominate, and the IQR is 0 for the sparse counts that matter (complaints,
refunds, interactions: most customers have none). Standardised values are clipped to ±5 so
that a handful of outliers cannot own a centroid. A NULL feature (no orders → no recency)
is imputed with the learned centre, i.e. 0 in the standardised space.

>>> sample = sample_features(features, DEFAULT_FEATURES, 50_000, seed=0)  # doctest: +SKIP
>>> model = BehaviourClusters().fit(sample)  # doctest: +SKIP
>>> model.assign(features).to_polars()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import polars as pl
from numpy.typing import NDArray

from tierwise.errors import DataError, TierwiseError
from tierwise.features._catalog import FEATURES, feature_name
from tierwise.models._base import ModelFitError, NotFittedError
from tierwise.models._cluster_sample import sample_features, silhouettes
from tierwise.models._cluster_words import WORDS, describe

Method = Literal["kmeans", "gmm"]
Array = NDArray[np.float64]

#: the features clustered by default: value, rhythm, engagement, breadth and risk
DEFAULT_FEATURES: Final[tuple[str, ...]] = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "orders_365d",
    "interactions_90d",
    "categories_bought",
    "refund_rate",
    "spend_trend",
    "tenure_days",
)

#: standardised values are clipped to ±Z_CLIP (outliers cannot own a centroid)
Z_CLIP: Final = 5.0
#: a cluster needs at least this many sampled customers to be worth a label
MIN_PER_CLUSTER: Final = 5
#: k is chosen on at most this many sampled rows; the chosen k is then fitted on all of them
SELECT_ROWS: Final = 10_000
#: silhouette is O(n²): scored on at most this many of those (10k took 2.5 s per k, 5k 0.3 s)
SILHOUETTE_ROWS: Final = 5_000
#: added to every GMM variance (standardised units): counts are discrete, and without a floor
#: the mixture spends components on single values (BIC chose 6 spikes for 4 blobs at 1e-4)
GMM_VARIANCE_FLOOR: Final = 0.03
#: feature used to order the keys of a first run (c1 = highest)
ORDER_BY: Final = "monetary_total"


def _logged(name: str) -> bool:
    """Money, counts and days are skewed and non-negative: they are clustered as log1p."""
    unit = FEATURES.get(name, (name, name, "number"))[2]
    return unit in ("money", "count", "days")


def _log_columns(names: Sequence[str], values: Array) -> Array:
    out = values.astype(np.float64, copy=True)
    for j, name in enumerate(names):
        if _logged(name):
            out[:, j] = np.log1p(np.clip(out[:, j], 0.0, None))
    return out


class ClusterFitError(ModelFitError):
    """Behaviour clusters cannot be fitted on this sample; ``text(lang)`` says why in zh or en
    (with the numbers), so the caller can fall back to a rule-based dimension.

    ``reason``: ``too_few_customers``, ``no_usable_features`` or ``no_cluster_structure``.
    """

    def __init__(self, reason: str, en: str, zh: str) -> None:
        # ModelFitError's reasons are the likelihood models'; these carry their own words
        TierwiseError.__init__(
            self,
            f"BehaviourClusters fit failed: {en}",
            key=f"models.fit.{reason}",
            model="BehaviourClusters",
            detail=en,
            why_en=en,
            why_zh=zh,
        )
        self.reason = reason  # type: ignore[assignment]
        self.model = "BehaviourClusters"
        self.detail = en
        self.detail_zh = zh

    def text(self, lang: str = "en") -> str:
        return f"无法建立行为分群：{self.detail_zh}" if lang == "zh" else str(self)


class BehaviourClusters:
    """Data-driven behaviour segments with generated descriptions (PRODUCT.md §2, §4).

    >>> model = BehaviourClusters(k_min=3, k_max=6).fit(sample)  # doctest: +SKIP
    >>> model.k_, model.descriptions_["c1"]["en"]  # doctest: +SKIP
    (4, 'high spend, frequent repeat buyers, recently active')
    >>> later = BehaviourClusters().fit(new_sample, previous=model)  # same keys, same meaning
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        k_min: int = 3,
        k_max: int = 8,
        sample_size: int = 50_000,
        random_state: int = 0,
        method: Method = "kmeans",
    ) -> None:
        self.features = features
        self.k_min = k_min
        self.k_max = k_max
        self.sample_size = sample_size
        self.random_state = random_state
        self.method = method

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters (scikit-learn's ``get_params``)."""
        return {
            "features": tuple(self.features),
            "k_min": self.k_min,
            "k_max": self.k_max,
            "sample_size": self.sample_size,
            "random_state": self.random_state,
            "method": self.method,
        }

    # --- fitting -----------------------------------------------------------------------------

    def sample(self, features: ir.Table) -> pl.DataFrame:
        """``sample_features`` with this model's features, ``sample_size`` and seed.

        >>> model.fit(model.sample(build_features(tables, as_of)))  # doctest: +SKIP
        """
        return sample_features(features, self.features, self.sample_size, self.random_state)

    def fit(
        self,
        sample: pl.DataFrame | Any,
        previous: BehaviourClusters | Mapping[str, Any] | None = None,
    ) -> BehaviourClusters:
        """Learn the standardisation, choose k, fit, and name the clusters.

        ``sample`` holds one row per customer (``sample_features``); its row order does not
        matter. With ``previous`` (a fitted model or its ``to_dict()``), clusters that match
        the previous run's centroids keep their keys.
        """
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

        # one thread: k-means on 50k rows is done in ~3 s on one core, while two OpenMP/BLAS
        # threads competing with the engine (or another process) for a shared machine's cores
        # took 17 s in the same run (bench/README.md, models)
        with threadpool_limits(limits=1):
            return self._fit(sample, previous)

    def _fit(
        self,
        sample: pl.DataFrame | Any,
        previous: BehaviourClusters | Mapping[str, Any] | None,
    ) -> BehaviourClusters:
        if not isinstance(sample, pl.DataFrame):
            sample = pl.DataFrame(sample)  # pyarrow, pandas or a dict of columns
        if self.method not in ("kmeans", "gmm"):
            raise ValueError(f"method must be 'kmeans' or 'gmm' (got {self.method!r}).")
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"Need 2 <= k_min <= k_max (got {self.k_min}, {self.k_max}).")
        names, raw, dropped = self._usable(sample)
        values = _log_columns(names, raw)
        center = np.nanmean(values, axis=0)
        scale = np.nanstd(values, axis=0)
        z = np.clip((values - center) / scale, -Z_CLIP, Z_CLIP)
        z = np.where(np.isnan(z), 0.0, z)
        k_hi = min(self.k_max, len(z) // MIN_PER_CLUSTER)
        distinct = len(np.unique(z, axis=0))
        if k_hi < self.k_min or distinct < self.k_min:
            raise ClusterFitError(
                "too_few_customers",
                f"{len(z)} customers with {distinct} distinct feature profiles are too few for "
                f"{self.k_min} clusters (at least {MIN_PER_CLUSTER * self.k_min} customers "
                "needed). Use fewer clusters (k_min) or a rule-based dimension.",
                f"{len(z)} 位客户（{distinct} 种不同特征组合）不足以分成 {self.k_min} 群"
                f"（至少需要 {MIN_PER_CLUSTER * self.k_min} 位）。请减小 k_min 或改用规则分类。",
            )
        scores, centers, extra = self._choose(z, k_hi)
        self.features_ = tuple(names)
        self.dropped_features_ = dropped
        self.center_ = center
        self.scale_ = scale
        self.scores_ = scores
        self.k_ = len(centers)
        self._name(centers, extra, previous)
        labels = self._nearest_rows(z)
        keys = self.keys_
        self.sizes_ = {key: int(np.sum(labels == i)) for i, key in enumerate(keys)}
        self.descriptions_ = {
            key: describe(names, self.cluster_centers_[i]) for i, key in enumerate(keys)
        }
        return self

    def _usable(self, sample: pl.DataFrame) -> tuple[list[str], Array, dict[str, dict[str, str]]]:
        missing = [f for f in self.features if f not in sample.columns]
        if missing:
            raise DataError(
                f"The sample has no column {missing[0]!r}: draw it with sample_features(..., "
                "model.features, ...).",
                key="models.cluster.missing_column",
                column=missing[0],
            )
        frame = sample
        if "customer_pk" in frame.columns:
            # the row order of a fetch is arbitrary; the fit must not depend on it
            frame = frame.sort("customer_pk")
        else:
            frame = frame.sort(list(self.features), nulls_last=True)
        if frame.height > self.sample_size:
            rng = np.random.RandomState(self.random_state)
            keep = np.sort(rng.permutation(frame.height)[: self.sample_size])
            frame = frame[keep.tolist()]
        names: list[str] = []
        dropped: dict[str, dict[str, str]] = {}
        for name in self.features:
            col = frame.get_column(name).cast(pl.Float64)
            col = col.fill_nan(None)
            if col.null_count() == len(col):
                dropped[name] = {"zh": "全部为空", "en": "no values"}
            elif col.drop_nulls().n_unique() == 1:
                dropped[name] = {"zh": "所有客户取值相同", "en": "the same for every customer"}
            else:
                names.append(name)
        if not names:
            raise ClusterFitError(
                "no_usable_features",
                "every feature is empty or the same for every customer "
                f"({', '.join(self.features)}). Import orders and interactions first.",
                f"所有特征都为空或取值相同（{', '.join(self.features)}）。请先导入订单和互动记录。",
            )
        raw = (
            frame.select([pl.col(n).cast(pl.Float64).fill_nan(None) for n in names])
            .to_numpy()
            .astype(np.float64)
        )
        return names, raw, dropped

    def _choose(self, z: Array, k_hi: int) -> tuple[dict[int, float], Array, Array | None]:
        """Score every k in [k_min, k_hi] on a subsample (silhouette for k-means, BIC for the
        mixture), then fit the best k on the whole sample.

        Choosing on ``SELECT_ROWS`` rows and refitting once took the 50k-row fit (k = 3…8, ten
        features) from 12.8 s to 2.7–6.2 s here; the silhouette is O(n²) and needs only a few
        thousand rows.
        """
        rng = np.random.RandomState(self.random_state)
        sub = z[np.sort(rng.permutation(len(z))[:SELECT_ROWS])]
        scored = sub[:SILHOUETTE_ROWS]
        scores: dict[int, float] = {}
        labelings: dict[int, npt.NDArray[np.intp]] = {}
        for k in range(self.k_min, k_hi + 1):
            if k >= len(sub):
                break
            if self.method == "kmeans":
                labels = self._kmeans(k, sub).labels_[: len(scored)]
                if 2 <= len(np.unique(labels)) < len(scored):
                    labelings[k] = labels
            else:
                scores[k] = float(self._gmm_fit(k, sub).bic(sub))
        scores |= silhouettes(scored, labelings)
        if not scores:
            raise ClusterFitError(
                "no_cluster_structure",
                "no number of clusters separates these customers.",
                "任何分群数都无法区分这些客户。",
            )
        if self.method == "kmeans":
            best = max(scores, key=lambda k: (scores[k], -k))
            km = self._kmeans(best, z)
            return scores, np.asarray(km.cluster_centers_, dtype=np.float64), None
        best = min(scores, key=lambda k: (scores[k], k))
        gm = self._gmm_fit(best, z)
        # per cluster: log weight, then the variance of each feature
        extra = np.column_stack([np.log(gm.weights_), gm.covariances_])
        return scores, np.asarray(gm.means_, dtype=np.float64), extra.astype(np.float64)

    def _kmeans(self, k: int, z: Array) -> Any:
        from sklearn.cluster import KMeans  # type: ignore[import-untyped, unused-ignore]

        return KMeans(n_clusters=k, n_init=4, random_state=self.random_state).fit(z)

    def _gmm_fit(self, k: int, z: Array) -> Any:
        from sklearn.mixture import GaussianMixture  # type: ignore[import-untyped, unused-ignore]

        return GaussianMixture(
            n_components=k,
            covariance_type="diag",
            n_init=2,
            random_state=self.random_state,
            reg_covar=GMM_VARIANCE_FLOOR,
        ).fit(z)

    def _name(
        self,
        centers: Array,
        extra: Array | None,
        previous: BehaviourClusters | Mapping[str, Any] | None,
    ) -> None:
        """Give each centroid a key; order the rows by key number (the tie-break order)."""
        k = len(centers)
        if previous is None:
            j = self.features_.index(ORDER_BY) if ORDER_BY in self.features_ else 0
            # highest first; the whole centroid breaks ties, so the order is total
            order = sorted(range(k), key=lambda i: (-centers[i, j], *(-centers[i]).tolist()))
            numbers = {i: n + 1 for n, i in enumerate(order)}
            next_key = k + 1
        else:
            prev = previous.to_dict() if isinstance(previous, BehaviourClusters) else previous
            numbers, next_key = self._match(centers, prev)
        rank = sorted(range(k), key=lambda i: numbers[i])
        self.cluster_centers_ = centers[rank]
        self._gmm = None if extra is None else extra[rank]
        self.keys_ = [f"c{numbers[i]}" for i in rank]
        self.next_key_ = next_key

    def _match(self, centers: Array, prev: Mapping[str, Any]) -> tuple[dict[int, int], int]:
        """Hungarian assignment of the new centroids to the previous ones.

        Compared in *this* run's standardised space: the previous centroids are mapped back
        to raw (log) units with the previous constants, then standardised with the new ones.
        Features that only one run has are left out of the comparison.
        """
        prev_names = list(prev["features"])
        common = [f for f in self.features_ if f in prev_names]
        prev_numbers = [int(str(key)[1:]) for key in prev["keys"]]
        next_key = int(prev.get("next_key", max(prev_numbers, default=0) + 1))
        if not common or not prev_numbers:
            return {i: next_key + i for i in range(len(centers))}, next_key + len(centers)
        pi = [prev_names.index(f) for f in common]
        ni = [self.features_.index(f) for f in common]
        p_center = np.asarray(prev["center"], dtype=np.float64)[pi]
        p_scale = np.asarray(prev["scale"], dtype=np.float64)[pi]
        p_z = np.asarray(prev["cluster_centers"], dtype=np.float64)[:, pi]
        mapped = (p_z * p_scale + p_center - self.center_[ni]) / self.scale_[ni]
        cost = ((centers[:, ni][:, None, :] - mapped[None, :, :]) ** 2).sum(axis=2)
        from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped, unused-ignore]

        rows, cols = linear_sum_assignment(cost)
        numbers = {int(r): prev_numbers[int(c)] for r, c in zip(rows, cols, strict=True)}
        for i in range(len(centers)):
            if i not in numbers:
                numbers[i] = next_key
                next_key += 1
        return numbers, next_key

    # --- applying ----------------------------------------------------------------------------

    def _check(self, method: str) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise NotFittedError("BehaviourClusters", method)

    def _standardise(self, values: Array) -> Array:
        v = _log_columns(self.features_, values)
        z = np.clip((v - self.center_) / self.scale_, -Z_CLIP, Z_CLIP)
        return np.asarray(np.where(np.isnan(z), 0.0, z), dtype=np.float64)

    def _scores_np(self, z: Array) -> Array:
        """Per row and cluster the quantity minimised by the assignment."""
        d = ((z[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
        if self._gmm is None:
            return np.asarray(d, dtype=np.float64)
        # diagonal Gaussian: -log(weight · density) up to the constant (p/2)·log 2π
        var = self._gmm[:, 1:]
        quad = ((z[:, None, :] - self.cluster_centers_[None, :, :]) ** 2 / var[None]).sum(axis=2)
        nll = 0.5 * quad + 0.5 * np.log(var).sum(axis=1)[None, :] - self._gmm[None, :, 0]
        return np.asarray(nll, dtype=np.float64)

    def _nearest_rows(self, z: Array) -> NDArray[np.intp]:
        # argmin returns the first minimum: ties go to the earlier key, as on the engine
        return np.asarray(np.argmin(self._scores_np(z), axis=1), dtype=np.intp)

    def z_exprs(self, t: ir.Table) -> dict[str, ir.FloatingValue]:
        """The standardised features as Ibis expressions (NULL → the centre, 0)."""
        self._check("z_exprs")
        out: dict[str, ir.FloatingValue] = {}
        for j, name in enumerate(self.features_):
            x = t[name].cast("float64")
            if _logged(name):
                x = (x.clip(lower=0.0) + 1.0).ln()
            z = ((x - float(self.center_[j])) / float(self.scale_[j])).clip(-Z_CLIP, Z_CLIP)
            out[name] = z.fill_null(0.0)
        return out

    def _score_exprs(self, t: ir.Table) -> list[ir.FloatingValue]:
        """Per cluster the quantity the assignment minimises, over columns ``_z_<feature>``."""
        out: list[ir.FloatingValue] = []
        for i in range(self.k_):
            terms: list[ir.FloatingValue] = []
            for j, name in enumerate(self.features_):
                diff = t[f"_z_{name}"] - float(self.cluster_centers_[i, j])
                if self._gmm is None:
                    terms.append(diff * diff)
                else:
                    terms.append(diff * diff / (2.0 * float(self._gmm[i, 1 + j])))
            score = terms[0]
            for term in terms[1:]:
                score = score + term
            if self._gmm is not None:
                const = 0.5 * float(np.log(self._gmm[i, 1:]).sum()) - float(self._gmm[i, 0])
                score = score + const
            out.append(score)
        return out

    def assign(self, features: ir.Table) -> ir.Table:
        """``customer_pk``, ``cluster`` (key) and ``distance`` (Euclidean, standardised) of
        every customer, computed on the engine.

        Ties (equal scores) go to the earlier key, identically on every engine: the minimum is
        taken with ``least`` and the first cluster whose score equals it wins.

        >>> model.assign(build_features(tables, as_of)).to_polars()  # doctest: +SKIP
        """
        self._check("assign")
        z = self.z_exprs(features)
        t = features.select("customer_pk", **{f"_z_{n}": e for n, e in z.items()})
        scores = self._score_exprs(t)
        t = t.mutate(**{f"_s{i}": s for i, s in enumerate(scores)})
        cols = [t[f"_s{i}"] for i in range(self.k_)]
        t = t.mutate(_best=ibis.least(*cols) if len(cols) > 1 else cols[0])
        cases = [(t[f"_s{i}"] == t._best, self.keys_[i]) for i in range(self.k_)]
        cluster = (
            ibis.cases(*cases[:-1], else_=cases[-1][1])
            if len(cases) > 1
            else ibis.literal(self.keys_[0])
        )
        if self._gmm is None:
            # k-means minimises the squared distance itself
            distance = t._best.sqrt()
        else:
            sq = [(cluster == key, self._sq_distance(t, i)) for i, key in enumerate(self.keys_)]
            distance = ibis.cases(*sq, else_=ibis.null("float64")).sqrt()
        return t.select("customer_pk", cluster=cluster, distance=distance.cast("float64"))

    def _sq_distance(self, t: ir.Table, i: int) -> ir.FloatingValue:
        total: ir.FloatingValue | None = None
        for j, name in enumerate(self.features_):
            diff = t[f"_z_{name}"] - float(self.cluster_centers_[i, j])
            total = diff * diff if total is None else total + diff * diff
        assert total is not None
        return total

    def predict(self, sample: pl.DataFrame) -> list[str]:
        """Cluster keys of in-memory rows (a sample, one customer): the same rule as
        ``assign``, in numpy.

        >>> model.predict(pl.DataFrame({"recency_days": [3], ...}))  # doctest: +SKIP
        ['c1']
        """
        self._check("predict")
        values = (
            sample.select([pl.col(n).cast(pl.Float64).fill_nan(None) for n in self.features_])
            .to_numpy()
            .astype(np.float64)
        )
        labels = self._nearest_rows(self._standardise(values))
        return [self.keys_[int(i)] for i in labels]

    def explain(self, row: Mapping[str, object], lang: str = "en", top: int = 3) -> dict[str, Any]:
        """Why one customer is in their cluster: the cluster's distinctive features, with the
        customer's own standardised value beside the centroid's.

        >>> model.explain({"recency_days": 3, "monetary_total": 5000, ...}, "zh")  # doctest: +SKIP
        {'cluster': 'c1', 'description': '高消费、近期活跃', 'features': [...]}
        """
        self._check("explain")
        frame = pl.DataFrame({n: [_number(row.get(n))] for n in self.features_})
        key = self.predict(frame)[0]
        i = self.keys_.index(key)
        z = self._standardise(
            frame.select(pl.all().cast(pl.Float64)).to_numpy().astype(np.float64)
        )[0]
        c = self.cluster_centers_[i]
        order = sorted(range(len(c)), key=lambda j: (-abs(c[j]), j))[:top]
        items = [
            {
                "feature": self.features_[j],
                "name": feature_name(self.features_[j], lang),
                "value": row.get(self.features_[j]),
                "z": round(float(z[j]), 3),
                "cluster_z": round(float(c[j]), 3),
            }
            for j in order
        ]
        lang_key = "zh" if lang == "zh" else "en"
        return {"cluster": key, "description": self.descriptions_[key][lang_key], "features": items}

    # --- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Parameters and learned state as plain JSON types (``from_dict`` restores it)."""
        self._check("to_dict")
        return {
            "model": "BehaviourClusters",
            "params": self.get_params() | {"features": list(self.features)},
            "features": list(self.features_),
            "dropped_features": self.dropped_features_,
            "center": [float(v) for v in self.center_],
            "scale": [float(v) for v in self.scale_],
            "cluster_centers": [[float(v) for v in row] for row in self.cluster_centers_],
            "gmm": None if self._gmm is None else [[float(v) for v in r] for r in self._gmm],
            "keys": list(self.keys_),
            "next_key": self.next_key_,
            "scores": {str(k): v for k, v in self.scores_.items()},
            "sizes": dict(self.sizes_),
            "descriptions": {k: dict(v) for k, v in self.descriptions_.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BehaviourClusters:
        """A fitted model from ``to_dict()``'s output.

        >>> BehaviourClusters.from_dict(json.loads(saved)).assign(features)  # doctest: +SKIP
        """
        p = data["params"]
        model = cls(
            features=tuple(p["features"]),
            k_min=int(p["k_min"]),
            k_max=int(p["k_max"]),
            sample_size=int(p["sample_size"]),
            random_state=int(p["random_state"]),
            method=p["method"],
        )
        model.features_ = tuple(data["features"])
        model.dropped_features_ = {k: dict(v) for k, v in data["dropped_features"].items()}
        model.center_ = np.asarray(data["center"], dtype=np.float64)
        model.scale_ = np.asarray(data["scale"], dtype=np.float64)
        model.cluster_centers_ = np.asarray(data["cluster_centers"], dtype=np.float64)
        gmm = data.get("gmm")
        model._gmm = None if gmm is None else np.asarray(gmm, dtype=np.float64)
        model.keys_ = [str(k) for k in data["keys"]]
        model.k_ = len(model.keys_)
        model.next_key_ = int(data["next_key"])
        model.scores_ = {int(k): float(v) for k, v in data["scores"].items()}
        model.sizes_ = {str(k): int(v) for k, v in data["sizes"].items()}
        model.descriptions_ = {str(k): dict(v) for k, v in data["descriptions"].items()}
        return model

    # learned state, declared for the type checker (set by fit / from_dict)
    features_: tuple[str, ...]
    dropped_features_: dict[str, dict[str, str]]
    center_: Array
    scale_: Array
    cluster_centers_: Array
    keys_: list[str]
    k_: int
    next_key_: int
    scores_: dict[int, float]
    sizes_: dict[str, int]
    descriptions_: dict[str, dict[str, str]]
    _gmm: Array | None


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"Feature values must be numbers or None (got {value!r}).")


__all__ = [
    "DEFAULT_FEATURES",
    "WORDS",
    "BehaviourClusters",
    "ClusterFitError",
    "sample_features",
]
