"""What every model shares: its errors, input coercion, and maximum likelihood on log-parameters.

The models follow scikit-learn's contract (STYLE.md §2): ``__init__`` stores hyperparameters,
``fit`` returns ``self``, learned state ends in ``_``. They are fitted on *compressed sufficient
statistics*: one row per distinct (frequency, recency, T) with a weight ``n_customers``
(``tierwise.models.compress``), so a million customers cost what a few thousand rows cost.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final, Literal, Self

import numpy as np
import numpy.typing as npt

from tierwise.errors import DataError, TierwiseError

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
WEIGHT: Final = "n_customers"

FitReason = Literal[
    "too_few_customers", "no_repeat_buyers", "no_convergence", "non_finite_likelihood"
]

#: user-facing words for why a fit failed (ModelFitError.reason → language → text)
FIT_REASONS: Final[dict[str, dict[str, str]]] = {
    "too_few_customers": {
        "en": "too few customers to fit the model",
        "zh": "客户数量太少，无法拟合模型",
    },
    "no_repeat_buyers": {
        "en": "no customer bought again (every frequency is 0), so the repeat-purchase "
        "behaviour cannot be estimated",
        "zh": "没有任何复购客户（频次全为 0），无法估计复购行为",
    },
    "no_convergence": {
        "en": "the likelihood maximisation did not converge",
        "zh": "似然函数最大化未收敛",
    },
    "non_finite_likelihood": {
        "en": "the likelihood is not a finite number for these data",
        "zh": "该数据的似然值不是有限数",
    },
}


class NotFittedError(TierwiseError, ValueError, AttributeError):
    """A model method was called before ``fit`` (like scikit-learn's ``NotFittedError``).

    >>> from tierwise.models import BetaGeo
    >>> BetaGeo().p_alive([1], [2.0], [3.0])
    Traceback (most recent call last):
    ...
    tierwise.models._base.NotFittedError: This BetaGeo instance is not fitted yet: call fit(summary) before p_alive().
    """

    def __init__(self, model: str, method: str) -> None:
        super().__init__(
            f"This {model} instance is not fitted yet: call fit(summary) before {method}().",
            key="models.not_fitted",
            model=model,
            method=method,
        )


class ModelFitError(TierwiseError):
    """A model could not be fitted; ``reason`` is one of ``FIT_REASONS`` (zh/en words in
    ``text(lang)``), ``str(error)`` is the English message with the details.

    >>> err = ModelFitError("GammaGamma", "no_repeat_buyers")
    >>> err.reason, err.text("zh")[:4]
    ('no_repeat_buyers', '没有任何')
    """

    def __init__(self, model: str, reason: FitReason, detail: str = "") -> None:
        self.reason: FitReason = reason
        self.model = model
        self.detail = detail
        message = f"{model} fit failed: {FIT_REASONS[reason]['en']}"
        super().__init__(
            f"{message}. {detail}".rstrip() if detail else message + ".",
            key=f"models.fit.{reason}",
            model=model,
            detail=detail,
            why_en=FIT_REASONS[reason]["en"],
            why_zh=FIT_REASONS[reason]["zh"],
        )

    def text(self, lang: str = "en") -> str:
        """The reason in ``lang`` (``"zh"`` or ``"en"``; other languages get English)."""
        words = FIT_REASONS[self.reason]
        return words.get(lang, words["en"])


# --- input coercion ---------------------------------------------------------------------------


def _column(data: Any, name: str) -> Any:
    """Column ``name`` of a pandas / Polars / pyarrow frame or a mapping of arrays."""
    module = type(data).__module__.split(".")[0]
    if module == "polars" and hasattr(data, "collect") and not hasattr(data, "height"):
        data = data.select(name).collect()  # a LazyFrame: only the column asked for
    if module == "pyarrow":
        return data.column(name).to_numpy()
    if isinstance(data, Mapping) or module in {"pandas", "polars"}:
        col = data[name]
        return col.to_numpy() if hasattr(col, "to_numpy") else col
    raise DataError(
        f"Cannot read columns from a {type(data).__name__}: pass a pandas, Polars or pyarrow "
        "DataFrame or a dict of arrays (e.g. the output of tierwise.models.rfm_summary).",
        key="models.bad_input",
        type=type(data).__name__,
    )


def _names(data: Any) -> list[str]:
    module = type(data).__module__.split(".")[0]
    if module == "polars" and hasattr(data, "collect_schema"):
        return list(data.collect_schema().names())
    if module == "pyarrow":
        return list(data.schema.names)
    if isinstance(data, Mapping):
        return [str(k) for k in data]
    if hasattr(data, "columns"):
        return [str(c) for c in data.columns]
    _column(data, "")  # raises the "cannot read" error
    return []


def as_float(name: str, values: ArrayLike) -> FloatArray:
    """``values`` as a 1-D float64 array; non-numeric or non-finite values are a DataError
    naming the column, how many and the first one."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f'Column "{name}" is not numeric ({exc}). Pass numbers.',
            key="models.not_numeric",
            column=name,
        ) from exc
    arr = np.atleast_1d(arr)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f'Column "{name}" has {int(bad.sum())} missing or non-finite values (first at row '
            f"{first}: {arr[first]!r}). Drop or fill them before fitting.",
            key="models.non_finite",
            column=name,
            count=int(bad.sum()),
        )
    return arr


def _check(name: str, arr: FloatArray, bad: npt.NDArray[np.bool_], rule: str) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f'Column "{name}" has {int(bad.sum())} values that break "{rule}" (first at row '
            f"{first}: {arr[first]!r}). Check the summary (tierwise.models.rfm_summary makes one).",
            key="models.bad_value",
            column=name,
            rule=rule,
            count=int(bad.sum()),
        )


def rfm_arrays(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated, broadcast (frequency, recency, T) arrays for scoring."""
    x, tx, t = np.broadcast_arrays(
        as_float("frequency", frequency), as_float("recency", recency), as_float("T", T)
    )
    _check("frequency", x, (x < 0) | (x != np.floor(x)), "a whole number >= 0")
    _check("recency", tx, (tx < 0) | (tx > t * (1 + 1e-12)), "0 <= recency <= T")
    # T = 0 (first purchase on the observation day) is allowed: such a customer adds nothing to
    # the likelihood and is alive with certainty
    _check("T", t, t < 0, "T >= 0")
    return x.astype(np.float64), tx.astype(np.float64), t.astype(np.float64)


def read_columns(
    data: Any, required: Sequence[str], model: str
) -> tuple[dict[str, FloatArray], FloatArray]:
    """The ``required`` columns of ``data`` as float arrays, and the weights (``n_customers``
    when present, else ones)."""
    names = _names(data)
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(
            f"{model}.fit needs the columns {', '.join(required)}; missing: "
            f"{', '.join(missing)} (have: {', '.join(names) or 'none'}). "
            "Build the input with tierwise.models.rfm_summary.",
            key="models.missing_columns",
            missing=", ".join(missing),
        )
    cols = {c: as_float(c, _column(data, c)) for c in required}
    n = len(next(iter(cols.values()))) if cols else 0
    if WEIGHT in names:
        w = as_float(WEIGHT, _column(data, WEIGHT))
        _check(WEIGHT, w, w < 0, "n_customers >= 0")
    else:
        w = np.ones(n)
    return cols, w


# --- maximum likelihood -----------------------------------------------------------------------


def wsum(weight: FloatArray, values: FloatArray) -> float:
    """Σ weight·values without BLAS: ``weight @ values`` goes to a multithreaded BLAS dot whose
    threads spin against other processes on a shared 2-core machine (measured 3× slower per
    likelihood evaluation under load) and whose result can depend on the thread count;
    einsum's own loop is single-threaded and deterministic."""
    return float(np.einsum("i,i->", weight, values))


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """L-BFGS-B calls LAPACK on 4×4 matrices; a multithreaded BLAS makes each call cost
    milliseconds under load (CDNOW fit 5 ms quiet, 120 ms with the cores shared). One thread is
    all these sizes need (threadpoolctl, a dependency; without it BLAS keeps its setting)."""
    try:
        from threadpoolctl import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            threadpool_limits,
        )
    except ImportError:  # pragma: no cover - an install without it still works, slower
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


#: the negative mean log-likelihood and its gradient in log-parameter space
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


def _fd_gradient(f: Callable[[FloatArray], float], phi: FloatArray, h: float = 1e-6) -> FloatArray:
    """Central differences (for models without an analytic gradient)."""
    g = np.empty_like(phi)
    for i in range(phi.size):  # over parameters, not customers
        e = np.zeros_like(phi)
        e[i] = h
        g[i] = (f(phi + e) - f(phi - e)) / (2 * h)
    return g


def with_fd_gradient(f: Callable[[FloatArray], float]) -> Objective:
    def both(phi: FloatArray) -> tuple[float, FloatArray]:
        return f(phi), _fd_gradient(f, phi)

    return both


def hessian_from_values(
    f: Callable[[FloatArray], float], x: FloatArray, h: float = 1e-4
) -> FloatArray:
    """Central second differences of f (for objectives whose gradient is itself a finite
    difference: differencing that again would be mostly noise)."""
    k = x.size
    out = np.empty((k, k))
    f0 = f(x)
    eye = np.eye(k) * h
    for i in range(k):
        out[i, i] = (f(x + eye[i]) - 2 * f0 + f(x - eye[i])) / h**2
        for j in range(i):
            out[i, j] = out[j, i] = (
                f(x + eye[i] + eye[j])
                - f(x + eye[i] - eye[j])
                - f(x - eye[i] + eye[j])
                + f(x - eye[i] - eye[j])
            ) / (4 * h**2)
    return out


def hessian(grad: Callable[[FloatArray], FloatArray], x: FloatArray) -> FloatArray:
    """Symmetrised central-difference Hessian from a gradient."""
    k = x.size
    h = 1e-5 * np.maximum(np.abs(x), 1e-3)
    out = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h[i]
        out[i] = (grad(x + e) - grad(x - e)) / (2 * h[i])
    return (out + out.T) / 2


class Fitted:
    """Result of :func:`maximise`."""

    def __init__(
        self, params: FloatArray, loglik: float, se: FloatArray, converged: bool, message: str
    ) -> None:
        self.params = params
        self.loglik = loglik
        self.se = se
        self.converged = converged
        self.message = message


def maximise(
    objective: Objective,
    start: FloatArray,
    total_weight: float,
    *,
    model: str,
    penalizer: float,
    tol: float,
    max_iter: int,
    values: Callable[[FloatArray], float] | None = None,
) -> Fitted:
    """Maximum likelihood over log-parameters φ = log θ with L-BFGS-B.

    ``objective(φ)`` returns the negative *mean* log-likelihood and its gradient in φ (mean, so
    that ``tol`` does not depend on the number of customers). ``penalizer`` adds
    ``penalizer * Σ φ²`` (an L2 shrinkage of the log-parameters towards 1). Standard errors come
    from the inverse Hessian of the negative log-likelihood in φ, mapped to θ by the delta
    method (dθ/dφ = θ). ``values`` (the objective's value alone) is given by models without an
    analytic gradient: their Hessian is then taken from values, not from a differenced gradient.
    """

    def penalised(phi: FloatArray) -> tuple[float, FloatArray]:
        f, g = objective(phi)
        return f + penalizer * float(phi @ phi), g + 2 * penalizer * phi

    f0, _ = penalised(start)
    if not math.isfinite(f0):
        raise ModelFitError(
            model, "non_finite_likelihood", f"At the starting values {np.exp(start).tolist()}."
        )
    with np.errstate(all="ignore"), _one_blas_thread():
        from scipy import optimize  # imported on the first fit: scoring needs only scipy.special

        res = optimize.minimize(
            penalised,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-30.0, 30.0)] * start.size,
            options={"maxiter": max_iter, "ftol": tol, "gtol": tol * 1e2, "maxls": 50},
        )
    phi = np.asarray(res.x, dtype=np.float64)
    f, g = penalised(phi)
    if not math.isfinite(f) or not np.all(np.isfinite(g)):
        raise ModelFitError(model, "non_finite_likelihood", f"At {np.exp(phi).tolist()}.")
    converged = bool(res.success) and float(np.max(np.abs(g))) < max(1e-4, 1e3 * tol)
    if not converged:
        raise ModelFitError(
            model,
            "no_convergence",
            f"After {res.nit} iterations (max_iter={max_iter}): {res.message}; largest "
            f"gradient {float(np.max(np.abs(g))):.3g}. Raise max_iter, add a small penalizer "
            "(e.g. 0.001) or check the data.",
        )
    with np.errstate(all="ignore"), _one_blas_thread():
        if values is None:
            h_phi = hessian(lambda p: penalised(p)[1], phi) * total_weight
        else:
            h_phi = (
                hessian_from_values(lambda p: values(p) + penalizer * float(p @ p), phi)
                * total_weight
            )
        try:
            cov_phi = np.linalg.inv(h_phi)
            theta = np.exp(phi)
            var = np.diag(cov_phi) * theta**2  # delta method: Var θ ≈ θ² Var φ
            se = np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
        except np.linalg.LinAlgError:
            se = np.full(phi.size, np.nan)
    return Fitted(np.exp(phi), -objective(phi)[0] * total_weight, se, True, str(res.message))


class Model:
    """Shared state and persistence of the fitted models (``params_``, ``se_``, ``loglik_``…)."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    _hyper: ClassVar[tuple[str, ...]] = ("penalizer", "tol", "max_iter")

    params_: dict[str, float]
    se_: dict[str, float]
    loglik_: float
    n_customers_: int
    converged_: bool
    time_unit_: str | None

    def __init__(self, *, penalizer: float = 0.0, tol: float = 1e-12, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _theta(self, method: str) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(self._name, method)
        return tuple(self.params_[k] for k in self._param_names)

    def _store(self, fitted: Fitted, n_customers: float, time_unit: str | None) -> None:
        names = self._param_names
        self.params_ = {k: float(v) for k, v in zip(names, fitted.params, strict=True)}
        self.se_ = {k: float(v) for k, v in zip(names, fitted.se, strict=True)}
        self.loglik_ = float(fitted.loglik)
        self.n_customers_ = round(n_customers)
        self.converged_ = fitted.converged
        self.time_unit_ = time_unit

    def _check_params(self) -> None:
        if self.penalizer < 0 or not math.isfinite(self.penalizer):
            raise DataError(
                f"penalizer must be a finite number >= 0 (got {self.penalizer!r}).",
                key="models.bad_penalizer",
                value=self.penalizer,
            )
        if self.max_iter < 1:
            raise DataError(
                f"max_iter must be >= 1 (got {self.max_iter!r}).",
                key="models.bad_max_iter",
                value=self.max_iter,
            )

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters (scikit-learn's ``get_params``)."""
        return {k: getattr(self, k) for k in self._hyper}

    def summary(self) -> dict[str, Any]:
        """Parameters, standard errors and log-likelihood as one small dict.

        >>> from tierwise.models import BetaGeo
        >>> sorted(BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.2, "alpha": 4.0,
        ...     "a": 0.8, "b": 2.4}, "loglik": -1.0, "n_customers": 1}).summary())
        ['converged', 'loglik', 'model', 'n_customers', 'params', 'se', 'time_unit']
        """
        self._theta("summary")
        return {
            "model": self._name,
            "params": dict(self.params_),
            "se": dict(self.se_),
            "loglik": self.loglik_,
            "n_customers": self.n_customers_,
            "converged": self.converged_,
            "time_unit": self.time_unit_,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: hyperparameters and, once fitted, what was learned."""
        out: dict[str, Any] = {
            "model": self._name,
            "version": 1,
            "hyperparameters": self.get_params(),
        }
        if hasattr(self, "params_"):
            s = self.summary()
            del s["model"]
            out.update(
                {
                    k: (
                        {n: (None if math.isnan(x) else x) for n, x in v.items()}
                        if k == "se"
                        else v
                    )
                    for k, v in s.items()
                }
            )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The model ``to_dict`` described (round trip)."""
        if data.get("model") != cls.__name__:
            raise DataError(
                f"This is a {data.get('model')!r} model, not a {cls.__name__}: load it with "
                f"tierwise.models.{data.get('model')}.from_dict.",
                key="models.wrong_model",
                got=data.get("model"),
                want=cls.__name__,
            )
        model = cls(**dict(data.get("hyperparameters", {})))
        if "params" in data:
            params = data["params"]
            missing = [k for k in cls._param_names if k not in params]
            if missing:
                raise DataError(
                    f"{cls.__name__} parameters missing: {', '.join(missing)}.",
                    key="models.missing_params",
                    model=cls.__name__,
                    missing=", ".join(missing),
                )
            model.params_ = {k: float(params[k]) for k in cls._param_names}
            se = data.get("se") or {}
            model.se_ = {
                k: float("nan") if se.get(k) is None else float(se[k]) for k in cls._param_names
            }
            model.loglik_ = float(data.get("loglik", float("nan")))
            model.n_customers_ = int(data.get("n_customers", 0))
            model.converged_ = bool(data.get("converged", True))
            model.time_unit_ = data.get("time_unit")
        return model

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"<{self._name} fitted: {inner}>"
        return f"{self._name}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"
