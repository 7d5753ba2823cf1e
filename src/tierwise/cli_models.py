"""CLI commands of the models: models fit|show, forecast, recommend.

Registered on ``tierwise.cli.app``; each command parses options and calls one library function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tierwise import pipeline
from tierwise.cli import DataDirOpt, JsonOpt, LangOpt, _lang, _settings, app, console
from tierwise.cli_classify import _date, _dump
from tierwise.errors import DataError

models_app = typer.Typer(
    help="Statistical models (BG/NBD, Pareto/NBD, Gamma-Gamma): fit and show.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")

_NAMES = {
    "bgnbd": ("BG/NBD（购买次数与存活）", "BG/NBD (purchases and P(alive))"),
    "pareto_nbd": ("Pareto/NBD", "Pareto/NBD"),
    "gamma_gamma": ("Gamma-Gamma（客单价）", "Gamma-Gamma (spend per order)"),
    "clusters": ("行为分群（k-means）", "behaviour clusters (k-means)"),
}


def _name(key: str, lang: str) -> str:
    zh, en = _NAMES.get(key, (key, key))
    return zh if lang == "zh" else en


def print_models(report: dict[str, Any], lang: str) -> None:
    """One line per model: its parameters ± standard errors and log-likelihood, or why not."""
    zh = lang == "zh"
    table = Table(title="模型" if zh else "Models", title_justify="left")
    table.add_column("模型" if zh else "model")
    table.add_column("参数 ± 标准误" if zh else "parameters ± standard error")
    table.add_column("对数似然" if zh else "log-likelihood", justify="right")
    for key, entry in report.items():
        if not isinstance(entry, dict) or "fitted" not in entry:
            continue
        state = entry.get("state") or entry
        if not entry["fitted"]:
            reason = entry.get("reason") or {}
            table.add_row(_name(key, lang), f"[yellow]{reason.get(lang, '')}[/]", "")
            continue
        if "params" in state and key != "clusters":
            se = state.get("se") or {}
            params = ", ".join(
                f"{k} = {v:.4g}" + (f" ± {se[k]:.2g}" if se.get(k) is not None else "")
                for k, v in state["params"].items()
            )
            table.add_row(_name(key, lang), params, f"{state.get('loglik', float('nan')):.2f}")
        elif "descriptions" in state:
            parts = "; ".join(f"{k}: {d.get(lang)}" for k, d in state["descriptions"].items())
            table.add_row(_name(key, lang), f"k = {state.get('k')} · {parts}", "")
    console.print(table)


def print_fallbacks(fallbacks: dict[str, dict[str, str]], lang: str) -> None:
    for name, words in fallbacks.items():
        console.print(f"[yellow]{'后备' if lang == 'zh' else 'fallback'}[/] {name}: {words[lang]}")


TimeUnitOpt = Annotated[
    str, typer.Option("--time-unit", help="D (days) or W (weeks): the unit of the parameters.")
]


@models_app.command(
    "fit",
    epilog="Example: tierwise models fit   |   tierwise models fit --orders cdnow.csv "
    "--as-of 1997-09-30 --time-unit W",
)
def fit(
    orders: Annotated[
        Path | None, typer.Option(help="Orders file: fit on it, no store (file mode).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="End of the calibration period (file mode; YYYY-MM-DD)."),
    ] = None,
    time_unit: TimeUnitOpt = "D",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma; print parameters, standard errors and LL."""
    from tierwise.models._service import fit_orders, fit_store

    language = _lang(lang)
    unit = time_unit.upper()
    if unit not in ("D", "W"):
        raise DataError(
            f"--time-unit {time_unit!r}: use D (days) or W (weeks).",
            key="err.models_time_unit",
            value=time_unit,
        )
    if orders is not None:
        day = _date(as_of)
        if day is None:
            raise DataError(
                "--orders needs --as-of: the day the calibration period ends.",
                key="err.models_needs_as_of",
            )
        data = fit_orders(orders, as_of=day, time_unit=unit)
    else:
        if as_of is not None:
            raise DataError(
                "--as-of belongs to file mode (--orders); the store's fit is as of the latest "
                "classification: run `tierwise classify --as-of DATE` first."
            )
        settings = _settings(data_dir)
        store = pipeline.open_store(settings)
        try:
            data = fit_store(settings, store, time_unit=unit)
        finally:
            store.dispose()
    if as_json:
        _dump(data)
        return
    console.print(
        f"{data['customers']:,} {'位客户' if language == 'zh' else 'customers'} · "
        f"{data['repeat_buyers']:,} {'位复购' if language == 'zh' else 'repeat buyers'} · "
        f"as of {data['as_of']} · time unit {data['time_unit']}"
    )
    print_models(data, language)


@models_app.command("show", epilog="Example: tierwise models show --lang zh")
def show(as_json: JsonOpt = False, lang: LangOpt = None, data_dir: DataDirOpt = None) -> None:
    """The models of the latest classification: parameters, clusters, fallbacks used."""
    from tierwise.models._service import show_models

    language = _lang(lang)
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = show_models(settings, store)
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    console.print(f"snapshot {data['snapshot_id']} · as of {data['as_of']}")
    if not data.get("models"):
        console.print(
            "这次分级没有用到模型" if language == "zh" else "This classification used no model."
        )
        return
    print_models(data["models"], language)
    print_fallbacks(data.get("fallbacks", {}), language)


@app.command(epilog="Example: tierwise forecast --days 90   |   tierwise forecast --by priority")
def forecast(
    days: Annotated[int, typer.Option(help="Forecast horizon in days.")] = 90,
    by: Annotated[str, typer.Option(help="The dimension to group by.")] = "value_tier",
    level: Annotated[float, typer.Option(help="Interval level, e.g. 0.9.")] = 0.9,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Expected revenue of the next N days per tier (customers' models + open leads)."""
    from tierwise.cli_classify import _label, _published_scheme
    from tierwise.models._forecast import forecast_store

    language = _lang(lang)
    zh = language == "zh"
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = forecast_store(settings, store, days=days, by=by, level=level)
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    scheme = _published_scheme(settings)
    pct = f"{level:.0%}"
    table = Table(
        title=(
            f"未来 {days} 天预计收入（{pct} 区间）· 截至 {data['as_of']}"
            if zh
            else f"Expected revenue, next {days} days ({pct} interval) · as of {data['as_of']}"
        ),
        title_justify="left",
    )
    for head in (
        ("等级", "tier"),
        ("客户", "customers"),
        ("预计订单", "expected orders"),
        ("老客户收入", "from customers"),
        ("商机收入", "from open leads"),
        ("合计", "total"),
        ("区间", "interval"),
    ):
        table.add_column(
            head[0] if zh else head[1], justify="left" if head[1] == "tier" else "right"
        )
    for r in data["tiers"]:
        table.add_row(
            _label(scheme, by, r["tier"], language),
            f"{r['customers']:,}",
            f"{r['expected_purchases']:,.1f}",
            f"{r['revenue_customers']:,.0f}",
            f"{r['revenue_leads']:,.0f}",
            f"{r['revenue']:,.0f}",
            f"{r['low']:,.0f} – {r['high']:,.0f}",
        )
    console.print(table)


@app.command(epilog="Example: tierwise recommend C00042 --top 5 --lang zh")
def recommend(
    customer_id: Annotated[str, typer.Argument(metavar="CUSTOMER_ID")],
    top: Annotated[int, typer.Option(help="How many products.")] = 3,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Products a customer has not bought yet, by co-purchase lift, with the reason."""
    from tierwise.models._service import recommend_store

    language = _lang(lang)
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = recommend_store(settings, store, customer_id=customer_id, top=top, lang=language)
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    if not data["recommendations"]:
        console.print(data["note"])
        return
    for item in data["recommendations"]:
        label = item["name"] or item["product"]
        console.print(f"{item['rank']}. [bold]{label}[/] — {item['reason']}")
