"""Golden values: the models fitted on CDNOW reproduce the published estimates to the printed
precision (1/10 sample, weeks, calibration 1997-01-01..1997-09-30)."""

from __future__ import annotations

import polars as pl
import pytest

from tierwise.models import BetaGeo, GammaGamma, ParetoNBD


def test_cdnow_summary_matches_the_papers_inputs(cdnow_summary: pl.DataFrame) -> None:
    # 2,357 customers, 946 of them repeat buyers (FHL 2005 JMR); T of a 1 January buyer is
    # the 272 days to 30 September in weeks (38.86, as in Hardie's CDNOW summary file)
    assert cdnow_summary.height == 2357
    assert cdnow_summary.filter(pl.col("frequency") > 0).height == 946
    first = cdnow_summary.row(0, named=True)
    assert first["customer_id"] == 4
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (
        2,
        30.43,
        38.86,
    )
    assert cdnow_summary.get_column("T").max() == pytest.approx(272 / 7)


def test_bgnbd_matches_fader_hardie_lee_2005(cdnow_compressed: pl.DataFrame) -> None:
    m = BetaGeo().fit(cdnow_compressed, time_unit="W")
    p = m.params_
    assert (round(p["r"], 3), round(p["alpha"], 3), round(p["a"], 3), round(p["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(m.loglik_, 1) == -9582.4
    assert m.n_customers_ == 2357 and m.converged_ and m.time_unit_ == "W"
    # standard errors as lifetimes 0.11.3 reports them for this fit (computed 2026-12-02):
    # r 0.012557, alpha 0.378224, a 0.185734, b 0.705414
    assert m.se_["r"] == pytest.approx(0.012557, rel=1e-3)
    assert m.se_["alpha"] == pytest.approx(0.378224, rel=1e-3)
    assert m.se_["a"] == pytest.approx(0.185734, rel=1e-3)
    assert m.se_["b"] == pytest.approx(0.705414, rel=1e-3)


def test_pareto_nbd_matches_fader_hardie_lee_2005(cdnow_compressed: pl.DataFrame) -> None:
    m = ParetoNBD().fit(cdnow_compressed)
    p = m.params_
    assert (round(p["r"], 3), round(p["alpha"], 3), round(p["s"], 3), round(p["beta"], 3)) == (
        0.553,
        10.578,
        0.606,
        11.669,
    )
    assert round(m.loglik_, 1) == -9595.0


def test_gamma_gamma_matches_fader_hardie_lee_2005_iso_value(
    cdnow_summary: pl.DataFrame,
) -> None:
    m = GammaGamma().fit(cdnow_summary)  # frequency-0 customers are left out by the model
    p = m.params_
    assert m.n_customers_ == 946
    assert (round(p["p"], 2), round(p["q"], 2), round(p["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert round(m.loglik_, 2) == -4055.92


def test_compressed_and_uncompressed_fits_agree(
    cdnow_summary: pl.DataFrame, cdnow_compressed: pl.DataFrame
) -> None:
    assert cdnow_compressed.height < cdnow_summary.height / 2
    assert int(cdnow_compressed.get_column("n_customers").sum()) == cdnow_summary.height
    for model in (BetaGeo, ParetoNBD):
        full, small = model().fit(cdnow_summary), model().fit(cdnow_compressed)
        assert small.n_customers_ == full.n_customers_ == 2357
        assert small.loglik_ == pytest.approx(full.loglik_, rel=1e-10)
        for k, v in full.params_.items():
            assert small.params_[k] == pytest.approx(v, rel=1e-4), (model, k)
    spend = cdnow_summary.select("frequency", "monetary_value")
    from tierwise.models import compress

    gg_small = GammaGamma().fit(compress(spend, ("frequency", "monetary_value")))
    gg_full = GammaGamma().fit(spend)
    assert gg_small.params_ == pytest.approx(gg_full.params_, rel=1e-6)


def test_bgnbd_standard_errors_match_a_natural_space_hessian(
    cdnow_compressed: pl.DataFrame,
) -> None:
    # se_ comes from the Hessian in log θ and the delta method; at the optimum it must equal
    # the inverse Hessian of −LL taken directly in θ (here by second differences of values)
    import numpy as np

    from tierwise.models._base import hessian_from_values
    from tierwise.models._bgnbd import _objective

    m = BetaGeo().fit(cdnow_compressed)
    c = {
        k: cdnow_compressed.get_column(k).to_numpy().astype(float) for k in cdnow_compressed.columns
    }
    n = c["n_customers"].sum()
    f = _objective(c["frequency"], c["recency"], c["T"], c["n_customers"] / n)
    theta = np.array(list(m.params_.values()))
    h = hessian_from_values(lambda th: f(np.log(th))[0] * n, theta, h=1e-4)
    se = np.sqrt(np.diag(np.linalg.inv(h)))
    assert se == pytest.approx(list(m.se_.values()), rel=1e-3)
