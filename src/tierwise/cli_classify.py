"""CLI commands of classification: classify, explain, history, scheme, preview, engine.

Registered on ``tierwise.cli.app``; each command parses options and calls one library function.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from tierwise import pipeline
from tierwise.act import write_table
from tierwise.cli import DataDirOpt, JsonOpt, LangOpt, _lang, _settings, app, console
from tierwise.errors import DataError, SchemeError

scheme_app = typer.Typer(
    help="The classification scheme (分级标准): show, validate, publish.", no_args_is_help=True
)
engine_app = typer.Typer(help="The analytics engine's columnar copy.", no_args_is_help=True)
override_app = typer.Typer(
    help="Manual label overrides (人工指定), with reason and expiry.", no_args_is_help=True
)
approvals_app = typer.Typer(
    help="Downgrades of protected labels waiting for approval (降级审批).", no_args_is_help=True
)
app.add_typer(scheme_app, name="scheme")
app.add_typer(engine_app, name="engine")
app.add_typer(override_app, name="override")
app.add_typer(approvals_app, name="approvals")

AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Classify as of this date (YYYY-MM-DD; default today)."),
]
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="duckdb (default), postgres or spark (TIERWISE_ENGINE)."),
]
FileOpt = Annotated[Optional[Path], typer.Option()]  # noqa: UP045


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DataError(
            f"--as-of {value!r} is not a date; use YYYY-MM-DD, e.g. 2024-06-30."
        ) from None


def _dump(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def _said_lines(lines: Sequence[str], lang: str) -> list[str]:
    """Scheme problems (`tierwise.scheme.validate_scheme`'s ``errors``) in ``lang``."""
    from tierwise.scheme._said import say_line
    from tierwise.web._i18n import messages

    return [say_line(line, lang, messages()) for line in lines]


def _checked_scheme(file: Path, lang: str) -> Any:
    """`load_checked`; a refused scheme's problems in Chinese first when ``lang`` is zh (as
    `tierwise.cli.said` says an error), each with its YAML path."""
    from tierwise.scheme import load_checked
    from tierwise.scheme._said import SchemeProblems

    try:
        return load_checked(file)
    except SchemeProblems as error:
        if lang != "zh":
            raise
        raise SchemeError("\n".join([*_said_lines(error.problems, lang), str(error)])) from None


def _title(scheme: Any, name: str, lang: str) -> str:
    dim = scheme.dimensions.get(name) if scheme else None
    return str(dim.title.get(lang)) if dim else name


def _label(scheme: Any, name: str, key: str, lang: str) -> str:
    dim = scheme.dimensions.get(name) if scheme else None
    if dim is None:
        return key
    if key == "insufficient":
        return str(dim.insufficient_label.get(lang))
    sep = "、" if lang == "zh" else " + "
    return sep.join(found.text(lang) if (found := dim.label(k)) else k for k in key.split("+"))


def _print_distribution(
    dimensions: dict[str, dict[str, int]], scheme: Any, lang: str, title: str
) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("维度" if lang == "zh" else "dimension")
    table.add_column("分布" if lang == "zh" else "labels (customers)")
    order = list(scheme.dimensions) if scheme else []
    for name, counts in sorted(
        dimensions.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
    ):
        parts = ", ".join(f"{_label(scheme, name, k, lang)} {v:,}" for k, v in counts.items())
        table.add_row(_title(scheme, name, lang), parts)
    console.print(table)


@app.command(
    epilog="Example: tierwise classify --as-of 2024-06-30   |   tierwise classify "
    "--orders orders.parquet --customers customers.csv --out labels.parquet"
)
def classify(
    as_of: AsOfOpt = None,
    engine: EngineOpt = None,
    orders: Annotated[
        Path | None, typer.Option(help="Orders file: classify files, no store.")
    ] = None,
    customers: Annotated[Optional[Path], typer.Option(help="Customers file (file mode).")] = None,  # noqa: UP045
    interactions: FileOpt = None,
    feedback: FileOpt = None,
    referrals: FileOpt = None,
    leads: FileOpt = None,
    scheme: Annotated[
        Path | None, typer.Option(help="Scheme YAML (file mode; default: the shipped scheme).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write labels here (.parquet, .csv or .xlsx).")
    ] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Classify every customer and publish a snapshot (or classify files with --orders/--customers)."""
    language = _lang(lang)
    day = _date(as_of)
    if orders or customers:
        from tierwise.classify._files import classify_sources
        from tierwise.classify._run import summary

        result, loaded = classify_sources(
            {
                "customers": customers,
                "orders": orders,
                "interactions": interactions,
                "feedback": feedback,
                "referrals": referrals,
                "leads": leads,
            },
            scheme=scheme,
            as_of=day,
            engine=engine or "duckdb",
        )
        data = summary(result) | {"inputs": loaded.counts}
        if out:
            write_table(result.wide(), out)
            data["out"] = str(out)
        if as_json:
            _dump(data)
        else:
            _print_distribution(
                data["dimensions"],
                result_scheme(scheme),
                language,
                f"{data['customers']:,} customers, as of {data['as_of']}",
            )
            _print_models(data, language)
            if out:
                console.print(f"→ {out}")
        return
    if any((interactions, feedback, referrals, leads, scheme, out)):
        raise DataError(
            "--interactions, --feedback, --referrals, --leads, --scheme and --out "
            "belong to file mode: give --orders or --customers too."
        )
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        from tierwise.classify import classify_store

        with console.status("classifying / 分级中…", spinner="dots"):
            data = classify_store(settings, store, as_of=day, engine=engine)
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    _print_distribution(
        data["dimensions"],
        _published_scheme(settings),
        language,
        f"snapshot {data['snapshot_id']} · as of {data['as_of']} · scheme v"
        f"{data['scheme_version']} · {data['engine']} · "
        f"{data['customers']:,} customers · {data['timings']['total']:.1f} s",
    )
    _print_models(data, language)


def _print_models(data: dict[str, Any], lang: str) -> None:
    if not data.get("models"):
        return
    from tierwise.cli_models import print_fallbacks, print_models

    print_models(data["models"]["fitted"], lang)
    print_fallbacks(data["models"]["fallbacks"], lang)


#: the demo's earlier snapshots, days before its last order day: the evaluation pages, the
#: migration matrix and each customer's history have a past to show from the first minute
DEMO_HISTORY_DAYS = (270, 180, 90)


def classify_demo(settings: Any, lang: str) -> None:
    """`tierwise demo`'s last step: classify as of three earlier quarter marks, oldest first
    (each with the one before as its prior, as a real store grows), then as of the demo data's
    last order day."""
    from datetime import timedelta

    from tierwise.classify import classify_store
    from tierwise.classify._service import last_order_day

    store = pipeline.open_store(settings)
    try:
        as_of = last_order_day(store)
        with console.status("classifying / 分级中…", spinner="dots"):
            earlier = [as_of - timedelta(days=d) for d in DEMO_HISTORY_DAYS]
            for day in earlier:
                classify_store(settings, store, as_of=day, actor="demo")
            data = classify_store(settings, store, as_of=as_of, actor="demo")
    finally:
        store.dispose()
    dates = ", ".join(d.isoformat() for d in earlier)
    console.print(f"History / 历史快照: {dates}")
    _print_distribution(
        data["dimensions"],
        _published_scheme(settings),
        lang,
        f"Classification / 客户分级 · as of {data['as_of']} · "
        f"{data['customers']:,} customers · {data['timings']['total']:.1f} s",
    )
    _print_models(data, lang)


def result_scheme(path: Path | None) -> Any:
    from tierwise.scheme._io import default_scheme, load_scheme

    return load_scheme(path) if path else default_scheme()


def _published_scheme(settings: Any) -> Any:
    from tierwise.classify._store import current_scheme

    store = pipeline.open_store(settings)
    try:
        with store.connect() as conn:
            return current_scheme(conn).scheme
    finally:
        store.dispose()


@app.command(epilog="Example: tierwise explain C0001 --lang zh")
def explain(
    customer_id: Annotated[str, typer.Argument(help="The customer's id (客户编号).")],
    as_of: AsOfOpt = None,
    engine: EngineOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Every dimension's label, score and reason for one customer."""
    from tierwise.classify import explain_customer

    language = _lang(lang)
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = explain_customer(
            settings,
            store,
            customer_id=customer_id,
            as_of=_date(as_of),
            lang=language,
            engine=engine,
        )
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    table = Table(
        title=f"{customer_id} · as of {data['as_of']} · scheme v{data['scheme_version']}",
        title_justify="left",
        show_lines=False,
    )
    table.add_column("维度" if language == "zh" else "dimension", style="bold")
    table.add_column("原因" if language == "zh" else "label and reason")
    for info in data["dimensions"].values():
        table.add_row(info["title"], info["reason"])
    console.print(table)


@app.command(epilog="Example: tierwise history C0001")
def history(
    customer_id: Annotated[str, typer.Argument(help="The customer's id (客户编号).")],
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Every label change of a customer: date, old → new, reason and scheme version."""
    from tierwise.classify import customer_history

    language = _lang(lang)
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = customer_history(store, customer_id=customer_id)
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    scheme = _published_scheme(settings)
    table = Table(title=f"{customer_id} {data['name'] or ''}", title_justify="left")
    for col in (
        ("日期", "date"),
        ("维度", "dimension"),
        ("变化", "change"),
        ("原因", "reason"),
        ("标准版本", "scheme"),
    ):
        table.add_column(col[0] if language == "zh" else col[1])
    kinds = {
        "new": ("首次分级", "first label"),
        "upgrade": ("升级", "upgrade"),
        "downgrade": ("降级", "downgrade"),
        "change": ("变更", "change"),
    }
    sources = {
        "rule": ("按标准", "by the scheme"),
        "hysteresis": ("回差保持", "hysteresis"),
        "pending": ("待审批", "waiting for approval"),
        "override": ("人工指定", "override"),
        "insufficient": ("数据不足", "insufficient data"),
    }
    for c in data["changes"]:
        old = _label(scheme, c["dimension"], c["old_label"], language) if c["old_label"] else "—"
        new = _label(scheme, c["dimension"], c["new_label"], language)
        kind = kinds.get(c["kind"], (c["kind"], c["kind"]))
        src = sources.get(c["source"], (c["source"], c["source"]))
        table.add_row(
            c["as_of"],
            _title(scheme, c["dimension"], language),
            f"{old} → {new}",
            f"{kind[0 if language == 'zh' else 1]}, {src[0 if language == 'zh' else 1]}",
            f"v{c['scheme_version']}",
        )
    console.print(table)


@scheme_app.command("show", epilog="Example: tierwise scheme show > my-scheme.yaml")
def scheme_show(
    version: Annotated[
        int | None, typer.Option(help="A published version (default: current).")
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="The shipped default, with its comments.")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Print the published scheme as YAML (edit it, then validate, preview and publish)."""
    from tierwise.classify._store import current_scheme
    from tierwise.scheme._io import default_scheme_text, dump_scheme

    if default:
        typer.echo(default_scheme_text(), nl=False)
        return
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        with store.connect() as conn:
            if version is None:
                current = current_scheme(conn)
                if current.version == 0:
                    typer.echo(default_scheme_text(), nl=False)
                    return
                typer.echo(dump_scheme(current.scheme), nl=False)
                return
            import sqlalchemy as sa

            from tierwise.store.tables import schemes

            doc = conn.scalar(sa.select(schemes.c.document).where(schemes.c.version == version))
            if doc is None:
                raise DataError(f"Scheme version {version} does not exist.")
            typer.echo(doc, nl=False)
    finally:
        store.dispose()


@scheme_app.command("validate", epilog="Example: tierwise scheme validate my-scheme.yaml")
def scheme_validate(
    file: Annotated[Path, typer.Argument(help="Scheme YAML file.")],
    as_json: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Check a scheme file: structure, labels, rules and the features they use."""
    from tierwise.scheme import validate_scheme

    language = _lang(lang)
    report = validate_scheme(file)
    if as_json:
        _dump(report)
    elif report["valid"]:
        console.print(
            f"[green]OK[/] {file}: {report['name']}, {len(report['dimensions'])} "
            "dimensions / 个维度"
        )
    else:
        for error in _said_lines(report["errors"], language):
            console.print(f"[red]✗[/] {escape(error)}", highlight=False)
    if not report["valid"]:
        raise typer.Exit(1)


@scheme_app.command(
    "publish", epilog='Example: tierwise scheme publish my-scheme.yaml --note "A ≥ 4.2"'
)
def scheme_publish(
    file: Annotated[Path, typer.Argument(help="Scheme YAML file.")],
    note: Annotated[
        str | None, typer.Option(help="Why it changed (kept with the version).")
    ] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Publish a scheme: the next `tierwise classify` uses it. Every version is kept."""
    from tierwise.classify._store import publish_scheme

    scheme = _checked_scheme(file, _lang(lang))
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        with store.begin() as conn:
            published = publish_scheme(conn, scheme=scheme, actor="cli", note=note)
    finally:
        store.dispose()
    data = {"version": published.version, "hash": published.hash, "name": scheme.name}
    if as_json:
        _dump(data)
    else:
        console.print(
            f"Published version {published.version} / 已发布第 {published.version} 版: "
            f"{scheme.name}"
        )


@scheme_app.command("features", epilog="Example: tierwise scheme features --lang zh")
def scheme_features(lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """List the features that rules, bands and scores can use."""
    from tierwise.features._catalog import FEATURES

    language = _lang(lang)
    if as_json:
        _dump({k: {"zh": v[0], "en": v[1], "unit": v[2]} for k, v in FEATURES.items()})
        return
    table = Table(title_justify="left")
    for col in ("feature", "meaning", "unit"):
        table.add_column(col)
    for name, (zh, en, unit) in FEATURES.items():
        table.add_row(name, zh if language == "zh" else en, unit)
    console.print(table)


@app.command(epilog="Example: tierwise preview my-scheme.yaml --as-of 2024-06-30")
def preview(
    file: Annotated[Path, typer.Argument(help="Draft scheme YAML file.")],
    as_of: AsOfOpt = None,
    engine: EngineOpt = None,
    limit: Annotated[int, typer.Option(help="Downgraded customers to list per dimension.")] = 20,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """What a draft scheme would change — distribution, migration, revenue, downgrades. Writes nothing."""
    from tierwise.classify import preview_store

    language = _lang(lang)
    scheme = _checked_scheme(file, language)
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        data = preview_store(
            settings,
            store,
            scheme=scheme,
            as_of=_date(as_of),
            engine=engine,
            downgrades_limit=limit if not as_json else 1000,
        )
    finally:
        store.dispose()
    if as_json:
        _dump(data)
        return
    _print_distribution(
        data["distribution"],
        scheme,
        language,
        f"preview · as of {data['as_of']} · vs published v{data['published_version']}",
    )
    for name, matrix in data["migration"].items():
        moved = {f: {t: n for t, n in row.items() if t != f} for f, row in matrix.items()}
        moved = {f: row for f, row in moved.items() if row}
        if not moved:
            continue
        table = Table(title=f"{_title(scheme, name, language)}: from → to", title_justify="left")
        table.add_column("from")
        table.add_column("to (customers)")
        for frm, row in moved.items():
            table.add_row(
                _label(scheme, name, frm, language),
                ", ".join(f"{_label(scheme, name, t, language)} {n:,}" for t, n in row.items()),
            )
        console.print(table)
    for name, down in data["downgrades"].items():
        if not down["count"]:
            continue
        table = Table(
            title=f"{_title(scheme, name, language)}: {down['count']:,} downgraded",
            title_justify="left",
        )
        for col in ("customer", "name", "from → to", "revenue 365d"):
            table.add_column(col)
        for c in down["customers"]:
            table.add_row(
                c["customer_id"],
                c["name"] or "",
                f"{c['from']} → {c['to']}",
                f"{c['revenue_365d']:,.0f}",
            )
        console.print(table)


@engine_app.command("rebuild", epilog="Example: tierwise engine rebuild")
def engine_rebuild(as_json: JsonOpt = False, data_dir: DataDirOpt = None) -> None:
    """Rebuild the DuckDB columnar copy of the store from scratch."""
    from tierwise.engine import analytic_copy

    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        report = analytic_copy(settings, store).sync(rebuild=True)
    finally:
        store.dispose()
    if as_json:
        _dump(report.to_dict())
    else:
        console.print(
            f"Rebuilt / 已重建 {sum(report.rows.values()):,} rows in "
            f"{report.seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
        )


@override_app.command(
    "set",
    epilog="Example: tierwise override set C0001 value_tier A --reason "
    '"strategic account" --expires 2025-12-31',
)
def override_set(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    dimension: Annotated[str, typer.Argument(help="e.g. value_tier")],
    label: Annotated[str, typer.Argument(help="A label key of that dimension, e.g. A")],
    reason: Annotated[str, typer.Option(help="Why (kept in the history and audit log).")],
    expires: Annotated[
        str | None, typer.Option(help="Last day in force is the day before (YYYY-MM-DD).")
    ] = None,
    actor: Annotated[str, typer.Option(help="Who decided.")] = "cli",
    data_dir: DataDirOpt = None,
) -> None:
    """Fix a customer's label in one dimension; it applies from the next classification."""
    from tierwise.classify import set_override

    expires_at = None
    if expires:
        try:
            expires_at = date.fromisoformat(expires)
        except ValueError:
            raise DataError(f"--expires {expires!r} is not a date (YYYY-MM-DD).") from None
    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.begin() as conn:
            set_override(
                conn,
                customer_id=customer_id,
                dimension=dimension,
                label=label,
                reason=reason,
                actor=actor,
                expires_at=expires_at,
            )
    finally:
        store.dispose()
    console.print(f"{customer_id} {dimension} → {label} (override / 人工指定)")


@override_app.command("revoke", epilog="Example: tierwise override revoke C0001 value_tier")
def override_revoke(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    dimension: Annotated[str, typer.Argument(help="e.g. value_tier")],
    actor: Annotated[str, typer.Option(help="Who decided.")] = "cli",
    data_dir: DataDirOpt = None,
) -> None:
    """End an override; the scheme decides again from the next classification."""
    from tierwise.classify import revoke_override

    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.begin() as conn:
            revoke_override(conn, customer_id=customer_id, dimension=dimension, actor=actor)
    finally:
        store.dispose()
    console.print(f"{customer_id} {dimension}: override revoked / 已撤销人工指定")


@override_app.command("list", epilog="Example: tierwise override list --json")
def override_list(as_json: JsonOpt = False, data_dir: DataDirOpt = None) -> None:
    """Overrides in force."""
    from tierwise.classify import list_overrides

    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.connect() as conn:
            rows = list_overrides(conn)
    finally:
        store.dispose()
    if as_json:
        _dump(rows)
        return
    table = Table(title_justify="left")
    for col in ("customer", "dimension", "label", "reason", "by", "expires"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["customer_id"],
            r["dimension"],
            r["label"],
            r["reason"],
            r["actor"],
            str(r["expires_at"] or "—"),
        )
    console.print(table)


@approvals_app.command("list", epilog="Example: tierwise approvals list")
def approvals_list(
    state: Annotated[str, typer.Option(help="pending, approved or rejected.")] = "pending",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Downgrades of protected labels and their state."""
    from tierwise.classify import list_pending

    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.connect() as conn:
            rows = list_pending(conn, state=state)
    finally:
        store.dispose()
    if as_json:
        _dump(rows)
        return
    table = Table(title_justify="left")
    for col in ("id", "customer", "name", "dimension", "from → to", "since"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["customer_id"],
            r["name"] or "",
            r["dimension"],
            f"{r['from_label']} → {r['to_label']}",
            str(r["created_at"])[:10],
        )
    console.print(table)


def _decide(
    pending_id: int, approve: bool, actor: str, note: str | None, data_dir: Path | None
) -> None:
    from tierwise.classify import decide_pending

    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.begin() as conn:
            decide_pending(conn, pending_id=pending_id, approve=approve, actor=actor, note=note)
    finally:
        store.dispose()
    word = "approved / 已批准" if approve else "rejected / 已驳回"
    console.print(f"Request {pending_id} {word}; applies at the next classification.")


@approvals_app.command("approve", epilog="Example: tierwise approvals approve 12 --actor lily")
def approvals_approve(
    pending_id: Annotated[int, typer.Argument(help="The request id (approvals list).")],
    actor: Annotated[str, typer.Option(help="Who decided.")] = "cli",
    note: Annotated[Optional[str], typer.Option(help="Why.")] = None,  # noqa: UP045
    data_dir: DataDirOpt = None,
) -> None:
    """Let a protected customer's downgrade happen at the next classification."""
    _decide(pending_id, True, actor, note, data_dir)


@approvals_app.command(
    "reject", epilog="Example: tierwise approvals reject 12 --note 'renewal due'"
)
def approvals_reject(
    pending_id: Annotated[int, typer.Argument(help="The request id (approvals list).")],
    actor: Annotated[str, typer.Option(help="Who decided.")] = "cli",
    note: Annotated[Optional[str], typer.Option(help="Why.")] = None,  # noqa: UP045
    data_dir: DataDirOpt = None,
) -> None:
    """Keep the protected label; the same downgrade is not asked again."""
    _decide(pending_id, False, actor, note, data_dir)


__all__ = ["classify", "engine_rebuild", "explain", "history", "preview"]
