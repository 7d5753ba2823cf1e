"""Every catalogued error can be said in zh and en: each ``key="…"`` that the code raises with
names an entry of the web catalogue (or of act's own texts), and the model errors format with
the parameters they are raised with (`tierwise.cli.said` falls back to English otherwise)."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tierwise import models
from tierwise.act._text import MESSAGES as ACT_TEXTS
from tierwise.cli import said
from tierwise.errors import TierwiseError
from tierwise.ingest import import_file
from tierwise.ingest._columns import UserMapping, detect_kind, map_columns
from tierwise.models._base import FIT_REASONS, ModelFitError
from tierwise.web._i18n import messages, t

SRC = Path(__file__).parents[1] / "src" / "tierwise"
#: entries whose Chinese leaves out an English word on purpose ("snooze"/"skip", "count"/"value")
TERSE_ZH = {"err.task_reason"}
LITERAL_KEY = re.compile(r'\bkey="([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"')


def _raised_keys() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, str(path.relative_to(SRC)))
    return found


def test_every_raised_key_is_catalogued() -> None:
    known = set(messages()) | set(ACT_TEXTS)
    keys = _raised_keys()
    assert len(keys) > 60  # the scan itself works
    missing = {k: where for k, where in keys.items() if k not in known}
    assert not missing, f"keys without zh/en text: {missing}"
    for reason in [*FIT_REASONS, "no_usable_features", "no_cluster_structure"]:
        assert f"models.fit.{reason}" in messages()


def test_catalogue_entries_have_the_same_placeholders_in_both_languages() -> None:
    """A value named in one language is named in the other (``why_zh`` pairs with ``why_en``)."""
    fields = string.Formatter()
    for key, entry in messages().items():
        names = [
            {re.sub(f"_{lang}$", "_*", f) for _, f, _, _ in fields.parse(entry[lang]) if f}
            for lang in ("zh", "en")
        ]
        if key in TERSE_ZH:
            assert names[0] < names[1], key
        else:
            assert names[0] == names[1], key


def _fitted_bg() -> models.BetaGeo:
    return models.BetaGeo.from_dict(
        {"model": "BetaGeo", "params": {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}}
    )


CASES: dict[str, Callable[[], Any]] = {
    "models.not_fitted": lambda: models.BetaGeo().p_alive([1], [2.0], [3.0]),
    "models.fit.no_repeat_buyers": lambda: models.BetaGeo().fit(
        {"frequency": np.zeros(300), "recency": np.zeros(300), "T": np.full(300, 10.0)}
    ),
    "models.not_numeric": lambda: models.BetaGeo().fit(
        {"frequency": ["x"], "recency": [1.0], "T": [2.0]}
    ),
    "models.non_finite": lambda: models.BetaGeo().fit(
        {"frequency": [1.0, np.nan], "recency": [1.0, 1.0], "T": [2.0, 2.0]}
    ),
    "models.missing_columns": lambda: models.BetaGeo().fit({"frequency": [1.0]}),
    "models.bad_input": lambda: models.BetaGeo().fit(42),
    "models.bad_penalizer": lambda: models.BetaGeo(penalizer=-1).fit(
        {"frequency": [1.0], "recency": [1.0], "T": [2.0]}
    ),
    "models.wrong_model": lambda: models.GammaGamma.from_dict({"model": "BetaGeo"}),
    "models.missing_params": lambda: models.BetaGeo.from_dict(
        {"model": "BetaGeo", "params": {"r": 1.0}}
    ),
    "models.bad_horizon": lambda: models.clv(
        _fitted_bg(), models.GammaGamma(), [1], [1.0], [2.0], [10.0], horizon=0, discount_rate=0.0
    ),
    "models.bad_time_unit": lambda: models.rfm_summary(
        pl.DataFrame({"customer_id": [1], "date": ["2024-01-01"]}),
        customer_id="customer_id",
        datetime="date",
        observation_end="2024-02-01",
        time_unit="M",
    ),
    "models.bad_date": lambda: models.rfm_summary(
        pl.DataFrame({"customer_id": [1], "date": ["2024-01-01"]}),
        customer_id="customer_id",
        datetime="date",
        observation_end="yesterday",
    ),
    "models.bad_spend": lambda: models.GammaGamma().fit(
        {"frequency": [2.0, 3.0, 1.0, 2.0], "monetary_value": [10.0, -5.0, 3.0, 4.0]}
    ),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_model_errors_are_said_in_chinese(key: str) -> None:
    with pytest.raises(TierwiseError) as caught:
        CASES[key]()
    err = caught.value
    assert err.key == key
    zh = t(key, "zh", **err.params)  # every placeholder is filled by the raise's params
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert "{" not in zh
    assert said(err, "zh") == f"{zh}\n{err}"
    t(key, "en", **err.params)


def test_fit_failures_say_the_reason_in_both_languages() -> None:
    err = ModelFitError("BetaGeo", "no_convergence", "after 200 iterations")
    assert t(err.key or "", "zh", **err.params) == "BetaGeo 拟合失败：似然函数最大化未收敛。"
    assert "did not converge" in t(err.key or "", "en", **err.params)


def _bad_mapping(text: str) -> Callable[[Path], Any]:
    def load(tmp: Path) -> Any:
        path = tmp / "mapping.yaml"
        path.write_text(text, encoding="utf-8")
        return UserMapping.load(path)

    return load


def _bad_rule(_: Path) -> Any:
    import ibis

    from tierwise.classify._compile import _rule

    return _rule(ibis.table({"orders_365d": "int64"}), "orders_365d + 1", "dimensions.x.rules[0]")


#: import and classification errors outside the model stage: key → (call, a value its zh names)
INPUT_CASES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "import.kind_unknown": (lambda _: detect_kind(["foo", "bar"]), "foo, bar"),
    "import.kind_ambiguous": (lambda _: detect_kind(["customer_id", "date"]), "--kind"),
    "import.mapping_not_mapping": (_bad_mapping("[1, 2]"), "mapping.yaml"),
    "import.mapping_unknown_keys": (_bad_mapping("colums: {}"), "colums"),
    "import.mapping_kind": (_bad_mapping("kind: order"), "'order'"),
    "import.mapping_columns": (_bad_mapping("columns: [a]"), "columns"),
    "import.mapping_target": (_bad_mapping("columns: {金额: 5}"), "columns.金额"),
    "import.mapping_field": (
        lambda _: map_columns(["金额"], "orders", UserMapping(columns={"金额": "amout"})),
        "“amout”",
    ),
    "err.file_not_found": (
        lambda tmp: import_file(tmp / "无.csv", engine=None),  # type: ignore[arg-type]
        "无.csv",
    ),
    "scheme.compile.not_condition": (_bad_rule, "dimensions.x.rules[0]"),
}


@pytest.mark.parametrize("key", sorted(INPUT_CASES))
def test_import_and_scheme_errors_are_said_in_chinese(key: str, tmp_path: Path) -> None:
    call, value = INPUT_CASES[key]
    with pytest.raises(TierwiseError) as caught:
        call(tmp_path)
    err = caught.value
    assert err.key == key, err
    zh = said(err, "zh").split("\n")[0]
    assert re.search(r"[\u4e00-\u9fff]", zh) and "{" not in zh, zh
    assert value in zh, zh
    assert t(key, "en", **err.params) == str(err)  # the catalogue's English is what was raised
