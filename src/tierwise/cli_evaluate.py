"""CLI commands of the evaluation: backtest, report, drift, migration.

Registered on ``tierwise.cli.app``; each command parses options and calls one library function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from tierwise import pipeline
from tierwise.cli import DataDirOpt, JsonOpt, LangOpt, _lang, _settings, app, console
from tierwise.cli_classify import _date, _dump
from tierwise.errors import DataError
from tierwise.settings import Settings

T = TypeVar("T")
DimensionOpt = Annotated[str, typer.Option("--dimension", help="The dimension evaluated.")]


def _with_store(data_dir: Path | None, call: Callable[[Settings, Any], T]) -> T:
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        return call(settings, store)
    finally:
        store.dispose()


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _num(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.2f}"


def _print_backtest(data: dict[str, Any], zh: bool) -> None:
    table = Table(
        title=(
            f"回测 {data['scheme']}：{data['as_of']} 分级，观察 {data['horizon_days']} 天"
            if zh
            else f"Backtest {data['scheme']}: classified as of {data['as_of']}, "
            f"{data['horizon_days']}-day horizon"
        ),
        title_justify="left",
    )
    for col in (
        ("层级", "tier"), ("客户数", "customers"), ("人均收入", "revenue / customer"),
        ("人均订单", "orders / customer"), ("活跃占比", "active share"), ("提升", "lift"),
    ):  # fmt: skip
        table.add_column(col[0] if zh else col[1], justify="left" if col[1] == "tier" else "right")
    for r in data["tiers"]:
        table.add_row(
            str(r["tier"]), f"{r['customers']:,}", _num(r["revenue_per_customer"]),
            _num(r["orders_per_customer"]), _pct(r["active_share"]), _num(r["lift"]),
        )  # fmt: skip
    console.print(table)
    verdict = "是" if data["ordered"] else "否"
    console.print(
        f"各层人均收入依次递减：{verdict}；顶层 {data['top_tier']} 提升 {_num(data['top_lift'])}"
        if zh
        else f"Revenue per customer falls tier by tier: {'yes' if data['ordered'] else 'no'}; "
        f"top tier {data['top_tier']} lift {_num(data['top_lift'])}"
    )
    churn = Table(title="流失风险校准" if zh else "Churn-risk calibration", title_justify="left")
    for col in (("风险", "risk"), ("客户数", "customers"), ("预测不活跃", "predicted inactive"),
                ("实际不活跃", "observed inactive")):  # fmt: skip
        churn.add_column(col[0] if zh else col[1])
    for r in data["churn_calibration"]:
        churn.add_row(
            str(r["risk"]), f"{r['customers']:,}", _pct(r["predicted_inactive"]),
            _pct(r["observed_inactive"]),
        )  # fmt: skip
    console.print(churn)
    cal = Table(
        title="预期购买次数校准（十分位）" if zh else "Expected purchases, by decile",
        title_justify="left",
    )
    for col in (("十分位", "decile"), ("预测", "predicted"), ("实际", "actual")):
        cal.add_column(col[0] if zh else col[1], justify="right")
    for r in data["purchase_calibration"]:
        cal.add_row(str(r["decile"]), _num(r["predicted"]), _num(r["actual"]))
    console.print(cal)


@app.command(
    "backtest",
    epilog="Example: tierwise backtest --as-of 2024-06-30 --horizon 180   |   "
    "tierwise backtest --as-of 2024-06-30 --horizon 180 --scheme a.yaml --compare b.yaml",
)
def backtest_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Classify as of this day (YYYY-MM-DD).")],
    horizon: Annotated[int, typer.Option("--horizon", help="Days of outcomes after it.")] = 180,
    scheme: Annotated[
        Path | None, typer.Option("--scheme", help="Scheme YAML (default: the published one).")
    ] = None,
    compare_with: Annotated[
        Path | None, typer.Option("--compare", help="A second scheme YAML, side by side.")
    ] = None,
    dimension: DimensionOpt = "value_tier",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Classify as of a past date and compare with what customers really did afterwards."""
    from tierwise.evaluate import backtest_store

    day = _date(as_of)
    assert day is not None
    for path in (scheme, compare_with):
        if path is not None and not path.exists():
            raise DataError(f"Scheme file {str(path)!r} does not exist; give the path of a YAML.")
    data = _with_store(
        data_dir,
        lambda s, store: backtest_store(
            s, store, as_of=day, horizon_days=horizon, scheme=scheme, compare_with=compare_with,
            dimension=dimension,
        ),
    )  # fmt: skip
    if as_json:
        _dump(data)
        return
    zh = _lang(lang) == "zh"
    if "verdict" in data:
        _print_backtest(data["a"], zh)
        _print_backtest(data["b"], zh)
        console.print(data["verdict"]["zh" if zh else "en"])
    else:
        _print_backtest(data, zh)


def _costs(items: list[str]) -> dict[str, float]:
    from tierwise.scheme import DEFAULT_COSTS

    out: dict[str, float] = {}
    for item in items:
        kind, _, value = item.partition("=")
        try:
            out[kind.strip()] = float(value)
        except ValueError:
            raise DataError(
                f"--cost {item!r} is not KIND=NUMBER; write e.g. --cost visit=300. / "
                f"--cost {item!r} 格式应为 类型=金额，例如 --cost visit=300。"
            ) from None
        if kind.strip() not in DEFAULT_COSTS:
            kinds = ", ".join(DEFAULT_COSTS)
            raise DataError(
                f"--cost {item!r}: {kind.strip()!r} is no interaction kind; use one of {kinds}. / "
                f"--cost {item!r}：{kind.strip()!r} 不是互动类型，可用：{kinds}。"
            )
        if out[kind.strip()] < 0:
            raise DataError(
                f"--cost {item!r}: a cost must be 0 or more. / --cost {item!r}：成本不能为负数。"
            )
    return out


@app.command("report", epilog="Example: tierwise report --out report.html --lang zh")
def report_cmd(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    backtest_as_of: Annotated[
        str | None, typer.Option("--backtest-as-of", help="Also backtest as of this day.")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Backtest horizon in days.")] = 180,
    cost: Annotated[
        list[str] | None,
        typer.Option(
            "--cost",
            help="Cost of one interaction of a kind for this report, e.g. "
            "--cost visit=300 (default: the scheme's evaluation.costs).",
        ),
    ] = None,
    hourly_rate: Annotated[
        float | None,
        typer.Option(
            "--hourly-rate",
            min=0,
            help="Cost of one service hour (default: the scheme's evaluation.hourly_rate).",
        ),
    ] = None,
    dimension: DimensionOpt = "value_tier",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the self-contained evaluation report (opens offline); --json prints the numbers."""
    from tierwise.evaluate import report_data, write_report

    language = _lang(lang)
    day = _date(backtest_as_of)
    costs = _costs(cost or [])
    data = _with_store(
        data_dir,
        lambda s, store: report_data(
            s, store, dimension=dimension, backtest_as_of=day, horizon_days=horizon,
            costs=costs or None, hourly_rate=hourly_rate,
        ),
    )  # fmt: skip
    if as_json:
        _dump(data)
        return
    path = write_report(data, out, lang=language)
    console.print(f"{'报告已写入' if language == 'zh' else 'Report written to'} {path}")


@app.command(
    "drift", epilog="Example: tierwise drift --json   |   tierwise drift --psi 0.1 --tier-size 0.1"
)
def drift_cmd(
    tier_size: Annotated[
        float, typer.Option("--tier-size", help="Warn when a tier's size moves more (0.2: ±20 %).")
    ] = 0.2,
    psi: Annotated[float, typer.Option("--psi", help="Warn above this PSI of a feature.")] = 0.25,
    calibration: Annotated[
        float, typer.Option("--calibration", help="Warn when actual/predicted purchases move more.")
    ] = 0.2,
    churn: Annotated[
        float,
        typer.Option(
            "--churn", help="Warn when predicted and observed inactivity per risk band differ more."
        ),
    ] = 0.1,
    dimension: DimensionOpt = "value_tier",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Drift between the two latest snapshots: tier sizes, feature PSI, the calibration of
    expected purchases and of churn risk."""
    from tierwise.evaluate import Thresholds, drift_store

    for name, value in (("--tier-size", tier_size), ("--psi", psi), ("--calibration", calibration),
                        ("--churn", churn)):  # fmt: skip
        if value <= 0:
            raise DataError(f"{name} {value}: use a threshold above 0, e.g. {name} 0.2.")
    th = Thresholds(tier_size=tier_size, psi=psi, calibration=calibration, churn=churn)
    data = _with_store(
        data_dir, lambda s, store: drift_store(s, store, dimension=dimension, thresholds=th)
    )
    if as_json:
        _dump(data)
        return
    language = _lang(lang)
    warnings = data["warnings"]
    if not warnings:
        console.print(
            "没有超过阈值的漂移。" if language == "zh" else "No drift beyond the thresholds."
        )
    for w in warnings:
        console.print(f"[yellow]![/] {w[language]}")


@app.command("migration", epilog="Example: tierwise migration --from 3 --to 5")
def migration_cmd(
    from_id: Annotated[int | None, typer.Option("--from", help="Earlier snapshot id.")] = None,
    to_id: Annotated[int | None, typer.Option("--to", help="Later snapshot id.")] = None,
    dimension: DimensionOpt = "value_tier",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The from→to tier matrix between two snapshots (default: the two latest)."""
    from tierwise.evaluate import NEW, migration_store

    data = _with_store(
        data_dir,
        lambda _s, store: migration_store(
            store, from_snapshot=from_id, to_snapshot=to_id, dimension=dimension
        ),
    )
    if as_json:
        _dump(data)
        return
    zh = _lang(lang) == "zh"
    table = Table(
        title=f"{'迁移' if zh else 'Migration'} {data['from_snapshot']} → {data['to_snapshot']}",
        title_justify="left",
    )
    table.add_column("上期 \\ 本期" if zh else "from \\ to")
    for key in data["labels"]:
        table.add_column(str(key), justify="right")
    for key, row in zip(data["from_labels"], data["matrix"], strict=True):
        name = ("新客户" if zh else "new") if key == NEW else str(key)
        table.add_row(name, *[f"{n:,}" for n in row])
    console.print(table)


@app.command(
    "before-after",
    epilog="Example: tierwise before-after   |   tierwise before-after --at 2026-09-30",
)
def before_after_cmd(
    at: Annotated[
        str | None,
        typer.Option("--at", help="The change date (default: the latest scheme change)."),
    ] = None,
    dimension: DimensionOpt = "value_tier",
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Tier metrics before and after a scheme or playbook change, with the confidence in words."""
    from tierwise.evaluate import before_after_store

    day = _date(at)
    data = _with_store(
        data_dir, lambda s, store: before_after_store(s, store, dimension=dimension, at=day)
    )
    if as_json:
        _dump(data)
        return
    language = _lang(lang)
    zh = language == "zh"
    for side in ("before", "after"):
        d = data[side]
        start, end = d["period"]
        console.print(
            f"{('变更前' if side == 'before' else '变更后') if zh else side}: "
            f"{'快照' if zh else 'snapshot'} {d['snapshot_id']} "
            f"({'方案版本' if zh else 'scheme version'} {d['scheme_version']}, {start or '…'} – {end})"
        )
    for key, zh_name in (("retention", "留存率"), ("complaint_rate", "投诉率")):
        m = data[key]
        console.print(
            f"{zh_name if zh else key.replace('_', ' ')}: {_pct(m['before'])} → {_pct(m['after'])} · "
            f"{m['confidence'][language]}"
        )
