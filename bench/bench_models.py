"""Model benchmark: BG/NBD and Gamma-Gamma fit and scoring, Tierwise vs lifetimes and PyMC-Marketing.

Measured in one run, on the same data:

- **CDNOW** (the 1/10 sample, weeks, calibration to 1997-09-30; ``tests/models/data``): Tierwise's
  ``rfm_summary``, ``compress`` and the fits, checked against the published estimates (Fader,
  Hardie & Lee 2005), and the same fits in lifetimes and PyMC-Marketing;
- **simulated customers** (``--customers``, default 1,000,000; ``tierwise.models.simulate_bgnbd``
  with the CDNOW estimates, first purchases spread over a year, purchases on whole days, spend
  by ``simulate_spend``): fit times on the raw summary and (Tierwise) on its compression, and
  P(alive) + expected purchases in the next 52 weeks for every customer.

The peers run in their own virtualenvs, created by this script when missing (``--no-peers``
skips them): lifetimes 0.11.3 in ``bench/out/lifetimes-venv`` (Python 3.11; it needs numpy < 2,
pandas < 2, scipy < 1.12, autograd < 1.7) and PyMC-Marketing 0.19.2 in ``bench/out/pymc-venv``
(Python 3.12, ``pymc < 6``, ``arviz < 1``; point estimate by ``fit(method="map")`` with flat
priors, ``HalfFlat``, so that it is the maximum likelihood). Each peer runs in a child process
that reads the data from ``.npz`` files and times itself; a peer that cannot be installed or
fails is skipped with a note. Times are medians of ``--repeats`` runs (peers at 1M: one run).

    .venv/bin/python bench/bench_models.py                 # 1,000,000 customers
    .venv/bin/python bench/bench_models.py --quick         # 20,000 customers, no peers unless present
    .venv/bin/python bench/run.py --only models [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CDNOW = ROOT / "tests" / "models" / "data" / "CDNOW_sample.txt"
DATA_VERSION = 1
SEED = 42
DEFAULT_CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 20_000
REPEATS = 3
HORIZON = 52.0  # weeks scored ahead
PEER_TIMEOUT_S = 3600

# CDNOW estimates (FHL 2005): the simulation's truth and the golden values
BG_TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_TRUE = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 3, -9582.4, 1),
    "gamma_gamma": ({"p": 6.25, "q": 3.74, "gamma": 15.44}, 2, -4055.92, 2),
}

PEERS: dict[str, dict[str, Any]] = {
    "lifetimes": {
        "venv": BENCH_DIR / "out" / "lifetimes-venv",
        "python": sys.executable if sys.version_info[:2] == (3, 11) else "python3.11",
        "requirements": [
            "lifetimes==0.11.3",
            "numpy<2",
            "pandas<2",
            "scipy<1.12",
            "autograd<1.7",
        ],
    },
    "pymc_marketing": {
        "venv": BENCH_DIR / "out" / "pymc-venv",
        "python": "/root/.pyenv/versions/3.12.1/bin/python",
        "requirements": ["pymc-marketing==0.19.2", "pymc<6", "arviz<1"],
    },
}

# --- the peers' scripts (run by the peers' interpreters; they print one JSON line) ----------

LIFETIMES_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter

out = {}
for name in sys.argv[1:]:
    d = np.load(name)
    x, tx, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
    rep = x > 0
    res = {}
    t0 = time.perf_counter()
    bg = BetaGeoFitter(penalizer_coef=0.0).fit(x, tx, T)
    res["bgnbd_fit_s"] = time.perf_counter() - t0
    res["bgnbd"] = {k: float(v) for k, v in bg.params_.items()}
    t0 = time.perf_counter()
    gg = GammaGammaFitter(penalizer_coef=0.0).fit(x[rep], m[rep])
    res["gamma_gamma_fit_s"] = time.perf_counter() - t0
    res["gamma_gamma"] = {"p": float(gg.params_["p"]), "q": float(gg.params_["q"]),
                          "gamma": float(gg.params_["v"])}
    t0 = time.perf_counter()
    alive = bg.conditional_probability_alive(x, tx, T)
    expected = bg.conditional_expected_number_of_purchases_up_to_time(52.0, x, tx, T)
    res["score_s"] = time.perf_counter() - t0
    res["score_sum"] = [float(np.sum(alive)), float(np.sum(expected))]
    out[name] = res
print(json.dumps(out))
"""

PYMC_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
import logging
logging.getLogger("pymc").setLevel(logging.ERROR)
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

flat = lambda names: {k: Prior("HalfFlat") for k in names}
out = {}
for name in sys.argv[1:]:
    d = np.load(name)
    x, tx, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
    ids = np.arange(x.size)
    res = {}
    df = pd.DataFrame({"customer_id": ids, "frequency": x, "recency": tx, "T": T})
    t0 = time.perf_counter()
    bg = BetaGeoModel(model_config=flat(["r", "alpha", "a", "b"]))
    bg.fit(data=df, method="map", progressbar=False)
    res["bgnbd_fit_s"] = time.perf_counter() - t0
    post = bg.idata.posterior
    res["bgnbd"] = {k: float(post[k].values.ravel()[0]) for k in ("r", "alpha", "a", "b")}
    rep = x > 0
    gdf = pd.DataFrame({"customer_id": ids[rep], "frequency": x[rep], "monetary_value": m[rep]})
    t0 = time.perf_counter()
    gg = GammaGammaModel(model_config=flat(["p", "q", "v"]))
    gg.fit(data=gdf, method="map", progressbar=False)
    res["gamma_gamma_fit_s"] = time.perf_counter() - t0
    gpost = gg.idata.posterior
    res["gamma_gamma"] = {"p": float(gpost["p"].values.ravel()[0]),
                          "q": float(gpost["q"].values.ravel()[0]),
                          "gamma": float(gpost["v"].values.ravel()[0])}
    out[name] = res
print(json.dumps(out))
"""

SCRIPTS = {"lifetimes": LIFETIMES_SCRIPT, "pymc_marketing": PYMC_SCRIPT}


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _rel_diff(ours: dict[str, float], theirs: dict[str, float] | None) -> float | None:
    if not theirs:
        return None
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in ours)


# --- data ------------------------------------------------------------------------------------


def cdnow_summary() -> pl.DataFrame:
    from tierwise.models import rfm_summary

    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    tx = pl.DataFrame(
        {
            "customer_id": [int(r[0]) for r in rows],
            "date": [r[2] for r in rows],
            "dollars": [float(r[4]) for r in rows],
        }
    ).with_columns(pl.col("date").str.to_date("%Y%m%d"))
    return rfm_summary(
        tx,
        datetime="date",
        monetary_value="dollars",
        observation_end="1997-09-30",
        time_unit="W",
    )


def simulated(n: int, seed: int = SEED) -> pl.DataFrame:
    """``n`` customers whose first purchase falls on a day of the last year; purchases on whole
    days (recency rounded up to the next day), weekly time unit, Gamma-Gamma spend."""
    from tierwise.models import simulate_bgnbd, simulate_spend

    rng = np.random.default_rng(seed)
    t_days = rng.integers(1, 366, n)
    s = simulate_bgnbd(n, BG_TRUE, T=t_days / 7, seed=seed + 1)
    recency = np.minimum(np.ceil(s.get_column("recency").to_numpy() * 7), t_days) / 7
    x = s.get_column("frequency").to_numpy()
    return s.with_columns(
        pl.Series("recency", recency),
        pl.Series("monetary_value", simulate_spend(x, GG_TRUE, seed=seed + 2)),
    )


def _save(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{c: frame.get_column(c).to_numpy() for c in frame.columns})
    return path


# --- peers -----------------------------------------------------------------------------------


def ensure_peer(name: str, notes: list[str], *, install: bool) -> Path | None:
    """The peer's interpreter, creating its virtualenv when missing (and ``install``)."""
    spec = PEERS[name]
    venv: Path = spec["venv"]
    python = venv / "bin" / "python"
    marker = venv / ".tierwise-requirements"
    wanted = "\n".join(spec["requirements"])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not install:
        notes.append(f"{name} skipped: no virtualenv at {venv} (run without --quick to create it)")
        return None
    base = spec["python"]
    try:
        if not python.exists():
            subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *spec["requirements"]],
            check=True,
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        notes.append(f"{name} skipped: could not install {' '.join(spec['requirements'])} "
                     f"with {base}: {str(detail).strip().splitlines()[-1:]}")  # fmt: skip
        return None
    marker.write_text(wanted)
    return python


def run_peer(name: str, python: Path, files: list[Path], notes: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "2"}
    try:
        done = subprocess.run(
            [str(python), "-c", SCRIPTS[name], *map(str, files)],
            check=True,
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT_S,
            env=env,
            cwd=BENCH_DIR / "out",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        tail = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()[-3:]
        notes.append(f"{name} failed: {' | '.join(tail)}")
        return {}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {Path(k).stem: v for k, v in result.items()}


# --- the benchmark ---------------------------------------------------------------------------


def _customers(args: argparse.Namespace) -> int:
    explicit = getattr(args, "customers", None)
    if explicit:
        return int(explicit)
    if getattr(args, "quick", False):
        return QUICK_CUSTOMERS
    rows = getattr(args, "rows", None)  # run.py's --rows: customers here
    return int(rows) if rows else DEFAULT_CUSTOMERS


def measure_tierwise(
    name: str, summary: pl.DataFrame, repeats: int, *, uncompressed: bool
) -> dict[str, Any]:
    from tierwise.models import BetaGeo, GammaGamma, compress

    res: dict[str, Any] = {"customers": summary.height}
    res["compress_s"], small = _median_time(lambda: compress(summary), repeats)
    res["compressed_rows"] = small.height
    res["bgnbd_fit_compressed_s"], bg = _median_time(lambda: BetaGeo().fit(small), repeats)
    res["bgnbd_fit_s"] = res["compress_s"] + res["bgnbd_fit_compressed_s"]
    if uncompressed:
        res["bgnbd_fit_uncompressed_s"], _ = _median_time(
            lambda: BetaGeo().fit(summary), 1 if summary.height > 100_000 else repeats
        )
    res["bgnbd"] = bg.params_
    res["bgnbd_loglik"] = bg.loglik_
    spend = summary.select("frequency", "monetary_value")
    res["gamma_gamma_fit_s"], gg = _median_time(lambda: GammaGamma().fit(spend), repeats)
    res["gamma_gamma"] = gg.params_
    res["gamma_gamma_loglik"] = gg.loglik_
    x, tx, t = (summary.get_column(c).to_numpy() for c in ("frequency", "recency", "T"))

    def score() -> list[float]:
        alive = bg.p_alive(x, tx, t)
        expected = bg.expected_purchases(HORIZON, x, tx, t)
        return [float(alive.sum()), float(expected.sum())]

    res["score_s"], res["score_sum"] = _median_time(score, repeats)
    return res


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(getattr(args, "out", BENCH_DIR / "out"))
    quick = bool(getattr(args, "quick", False))
    repeats = int(getattr(args, "repeats", None) or REPEATS)
    peers = not getattr(args, "no_peers", False) and not getattr(args, "no_reference", False)
    n = _customers(args)
    notes: list[str] = []
    ok = True

    cdnow_summary()  # the first call pays for importing Ibis and opening DuckDB
    t0 = time.perf_counter()
    cd = cdnow_summary()
    rfm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = simulated(n)
    notes.append(
        f"data: CDNOW {cd.height:,} customers (rfm_summary {rfm_s * 1000:.0f} ms); simulated "
        f"{n:,} customers in {time.perf_counter() - t0:.1f} s"
    )
    tw = {
        "cdnow": measure_tierwise("cdnow", cd, max(repeats, 5), uncompressed=True),
        "simulated": measure_tierwise("simulated", sim, repeats, uncompressed=True),
    }
    # golden values (the run fails if they break)
    for model, (want, digits, loglik, ll_digits) in PUBLISHED.items():
        got = {k: round(v, digits) for k, v in tw["cdnow"][model].items()}
        got_ll = round(tw["cdnow"][f"{model}_loglik"], ll_digits)
        if got != want or got_ll != loglik:
            ok = False
            notes.append(
                f"CHECK FAILED: {model} on CDNOW gave {got}, LL {got_ll}; published {want}, {loglik}"
            )

    files = {
        "cdnow": _save(cd.select("frequency", "recency", "T", "monetary_value"),
                       out / "data" / f"models-v{DATA_VERSION}-cdnow.npz"),
        "simulated": _save(sim, out / "data" / f"models-v{DATA_VERSION}-sim{n}.npz"),
    }  # fmt: skip
    peer_results: dict[str, dict[str, Any]] = {}
    if peers:
        for name in PEERS:
            python = ensure_peer(name, notes, install=not quick)
            if python is None:
                continue
            got = run_peer(name, python, list(files.values()), notes)
            peer_results[name] = {
                data: got.get(path.stem, {}) for data, path in files.items() if got
            }
    else:
        notes.append("peers skipped (--no-peers)")

    rows: list[dict[str, Any]] = []
    ratios: dict[str, Any] = {}
    for data in ("cdnow", "simulated"):
        ours = tw[data]
        for model, fit_key in (("bgnbd", "bgnbd_fit_s"), ("gamma_gamma", "gamma_gamma_fit_s")):
            row: dict[str, Any] = {
                "data": data,
                "customers": ours["customers"],
                "step": f"{'BG/NBD' if model == 'bgnbd' else 'Gamma-Gamma'} fit",
                "tierwise_ms": round(ours[fit_key] * 1000, 1),
            }
            for peer, res in peer_results.items():
                theirs = res.get(data, {})
                if fit_key in theirs:
                    row[f"{peer}_ms"] = round(theirs[fit_key] * 1000, 1)
                    row[f"{peer}÷tierwise"] = round(theirs[fit_key] / ours[fit_key], 1)
                    diff = _rel_diff(ours[model], theirs.get(model))
                    row[f"params_rel_diff_{peer}"] = f"{diff:.1e}" if diff is not None else None
                    ratios[f"{data}.{model}.{peer}"] = theirs[fit_key] / ours[fit_key]
            rows.append(row)
        if "bgnbd_fit_uncompressed_s" in ours:
            rows.append(
                {
                    "data": data,
                    "customers": ours["customers"],
                    "step": f"BG/NBD fit, not compressed ({ours['customers']:,} rows)",
                    "tierwise_ms": round(ours["bgnbd_fit_uncompressed_s"] * 1000, 1),
                }
            )
        row = {
            "data": data,
            "customers": ours["customers"],
            "step": f"P(alive) + E[purchases in {HORIZON:g} weeks]",
            "tierwise_ms": round(ours["score_s"] * 1000, 1),
        }
        theirs = peer_results.get("lifetimes", {}).get(data, {})
        if "score_s" in theirs:
            row["lifetimes_ms"] = round(theirs["score_s"] * 1000, 1)
            row["lifetimes÷tierwise"] = round(theirs["score_s"] / ours["score_s"], 1)
            ours_sum, their_sum = np.array(ours["score_sum"]), np.array(theirs["score_sum"])
            diff = float(np.max(np.abs(ours_sum - their_sum) / np.abs(their_sum)))
            row["params_rel_diff_lifetimes"] = f"{diff:.1e} (sums)"
        rows.append(row)

    sim_res = tw["simulated"]
    per_million = 1_000_000 / max(sim_res["customers"], 1)
    goals = {
        "bgnbd_fit_cdnow_s": {"value": tw["cdnow"]["bgnbd_fit_compressed_s"], "goal": 0.05},
        # measured, not extrapolated: the 2F1 grid look-up pays off with size
        "score_1m_s": {
            "value": sim_res["score_s"] if sim_res["customers"] == 1_000_000 else None,
            "goal": 0.3,
        },
        "bgnbd_fit_vs_lifetimes": {
            "value": ratios.get("simulated.bgnbd.lifetimes"),
            "goal": 10.0,
        },
        "params_rel_diff": {"value": None, "goal": 1e-3},
    }
    diffs = [
        _rel_diff(tw[d][m], peer_results[p].get(d, {}).get(m))
        for p in peer_results
        for d in ("cdnow", "simulated")
        for m in ("bgnbd", "gamma_gamma")
    ]
    diffs_known = [d for d in diffs if d is not None]
    if diffs_known:
        goals["params_rel_diff"]["value"] = max(diffs_known)
    for key, g in goals.items():
        value, goal = g["value"], g["goal"]
        if value is None:
            continue
        met = value >= goal if key.endswith("vs_lifetimes") else value <= goal
        notes.append(
            f"goal {key}: {value:.4g} (goal {'≥' if key.endswith('vs_lifetimes') else '≤'} {goal:g}) {'met' if met else 'NOT met'}"
        )
    if sim_res["customers"] != 1_000_000:
        notes.append(
            f"goal score_1m_s: not measured ({sim_res['customers']:,} customers; "
            f"{sim_res['score_s'] * per_million:.2f} s scaled linearly, an upper bound)"
        )
    return {
        "ok": ok,
        "goal": goals,
        "dataset": {"cdnow_customers": cd.height, "simulated_customers": n, "seed": SEED},
        "rows": rows,
        "results": {"tierwise": tw, "peers": peer_results, "ratios": ratios},
        "notes": notes,
        "repeats": repeats,
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--customers", type=int, help=f"simulated customers (default {DEFAULT_CUSTOMERS:,})"
    )
    p.add_argument("--quick", action="store_true", help=f"{QUICK_CUSTOMERS:,} customers")
    p.add_argument("--repeats", type=int, default=REPEATS)
    p.add_argument("--no-peers", action="store_true", help="skip lifetimes and PyMC-Marketing")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    args = p.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))
    from run import report  # type: ignore[import-not-found]

    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = run(args)
    report("models", result, args.out, stamp)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
