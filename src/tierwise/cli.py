"""The `tierwise` command. Each command parses its options and calls one library function."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tierwise import pipeline
from tierwise.errors import TierwiseError
from tierwise.ingest import KINDS, ImportOptions, ImportReport, UserMapping
from tierwise.settings import Settings, load_settings

app = typer.Typer(
    help="Tierwise — customer classification and tiering (客户分类 / 客户分级管理).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)


def _lang(value: str | None) -> str:
    if value in ("zh", "en"):
        return value
    env = os.environ.get("TIERWISE_LANGUAGE") or os.environ.get("LANG", "")
    return "zh" if env.lower().startswith("zh") else "en"


def _settings(data_dir: Path | None = None, **extra: Any) -> Settings:
    overrides: dict[str, Any] = dict(extra)
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return load_settings(**overrides)


LangOpt = Annotated[Optional[str], typer.Option("--lang", help="Message language: zh or en.")]  # noqa: UP045
DataDirOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--data-dir", help="Data directory (default: TIERWISE_DATA_DIR or ./tierwise-data)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

_L = {
    "rows_in": ("rows in", "读取行数"),
    "inserted": ("inserted", "新增"),
    "updated": ("updated", "更新"),
    "skipped": ("skipped", "跳过"),
    "rejected": ("rejected", "拒绝"),
    "customers_created": ("customers created from this file", "由本文件新建的客户"),
    "merged": ("duplicate customers merged", "合并的重复客户"),
    "warnings": ("values dropped (warnings)", "被清空的值（警告）"),
    "encoding": ("encoding", "编码"),
    "kind": ("kind", "数据类型"),
    "mapping": ("columns", "列映射"),
    "unmapped": ("unmapped columns", "未映射的列"),
    "problems": ("problems", "问题"),
    "more": (
        "more problems not shown; --json lists up to 1000",
        "更多问题未显示；--json 最多列出 1000 条",
    ),
    "dry": ("DRY RUN — nothing was written", "试运行 — 未写入任何数据"),
}


def _t(key: str, lang: str) -> str:
    en, zh = _L[key]
    return zh if lang == "zh" else en


def _print_report(report: ImportReport, lang: str) -> None:
    title = f"{report.file}"
    if report.dry_run:
        title += f"  [yellow]{_t('dry', lang)}[/]"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row(_t("kind", lang), str(report.kind))
    enc = report.encoding or report.format or ""
    if report.encoding and not report.encoding_detected:
        enc += " (--encoding)"
    elif report.encoding:
        enc += " (detected / 自动识别)" if lang == "zh" else " (detected)"
    table.add_row(_t("encoding", lang), enc)
    for key in ("rows_in", "inserted", "updated", "skipped", "rejected"):
        value = str(getattr(report, key))
        if key == "skipped" and report.skipped_detail:
            value += "  " + ", ".join(f"{k}: {v}" for k, v in report.skipped_detail.items())
        table.add_row(_t(key, lang), value)
    for key in ("customers_created", "merged", "warnings"):
        if getattr(report, key):
            table.add_row(_t(key, lang), str(getattr(report, key)))
    if report.mapping:
        table.add_row(
            _t("mapping", lang), ", ".join(f"{src} → {f}" for f, src in report.mapping.items())
        )
    if report.unmapped_columns:
        table.add_row(_t("unmapped", lang), ", ".join(report.unmapped_columns))
    console.print(table)
    if report.notes:
        from tierwise._said import say
        from tierwise.web._i18n import messages

        for note in report.notes:  # each a Said: said in the chosen language
            console.print(f"  • {say(note, lang, messages())}", markup=False, highlight=False)
    problems = report.errors + report.warning_list
    if problems:
        console.print(f"[bold]{_t('problems', lang)}[/]")
        for p in sorted(problems, key=lambda p: p.line or 0)[:20]:
            where = f"{p.sheet}!" if p.sheet else ""
            style = "red" if p.severity == "error" else "yellow"
            col = f" [{p.column}]" if p.column else ""
            console.print(
                f"  [{style}]{where}line {p.line}{col} {p.code}[/]: {p.message}",
                markup=True,
                highlight=False,
            )
        total = report.rejected + report.warnings
        if total > 20:
            console.print(f"  … {_t('more', lang)}")


@app.command(
    "import",
    epilog="Example: tierwise import orders.csv --dry-run   |   tierwise import exports/ --json",
)
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files (CSV, XLSX, Parquet) or folders.")],
    kind: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(KINDS)}; detected if omitted.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML file: columns: {header: field}.")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option(help='e.g. "%d/%m/%Y" for ambiguous dates.')
    ] = None,
    on_duplicate: Annotated[
        str, typer.Option(help="update | skip | error, for keys already stored.")
    ] = "update",
    strict: Annotated[
        bool, typer.Option(help="Reject rows that reference unknown customers.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and report, write nothing.")] = False,
    encoding: Annotated[
        str | None, typer.Option(help="Force the CSV encoding (e.g. gb18030).")
    ] = None,
    delimiter: Annotated[Optional[str], typer.Option(help="Force the CSV delimiter.")] = None,  # noqa: UP045
    sheet: Annotated[
        str | None, typer.Option(help='Excel sheet name or number; "*" for all.')
    ] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Import customers, orders, interactions, feedback, referrals, leads or products."""
    language = _lang(lang)
    if kind is not None and kind not in KINDS:
        raise TierwiseError(f"--kind {kind!r} is not one of {', '.join(KINDS)}.",
                            key="cli.kind", kind=repr(kind), kinds=", ".join(KINDS))  # fmt: skip
    if on_duplicate not in ("update", "skip", "error"):
        raise TierwiseError(f"--on-duplicate {on_duplicate!r} must be update, skip or error.",
                            key="cli.on_duplicate", value=repr(on_duplicate))  # fmt: skip
    settings = _settings(data_dir)
    options = ImportOptions(
        kind=kind,
        mapping=UserMapping.load(mapping) if mapping else None,
        date_format=date_format,
        on_duplicate=on_duplicate,  # type: ignore[arg-type]
        strict=strict,
        dry_run=dry_run,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        batch_size=settings.import_batch_size,
        lang=language,
    )
    with _progress(disable=as_json) as bar:
        tasks: dict[Path, Any] = {}

        def step(path: Path, done: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(path.name, total=None)
            bar.update(tasks[path], completed=done)

        reports = pipeline.import_paths(paths, settings=settings, options=options, progress=step)
    if as_json:
        data = [r.to_dict() for r in reports]
        console.print_json(
            json.dumps(
                data[0] if len(data) == 1 and paths[0].is_file() else data,
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        for report in reports:
            _print_report(report, language)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


def _progress(*, disable: bool = False) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err_console,
        disable=disable,
        transient=False,
    )


@app.command(epilog="Example: tierwise init --data-dir ./tierwise-data")
def init(
    data_dir: DataDirOpt = None,
    admin: Annotated[str, typer.Option(help="User name of the first administrator.")] = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Create the data directory, the database, the secret key and the first admin user."""
    result = pipeline.init(_settings(data_dir), admin_username=admin)
    if as_json:
        console.print_json(
            json.dumps(
                {k: str(v) if isinstance(v, Path) else v for k, v in result.__dict__.items()}
            )
        )
        return
    console.print(f"Data directory / 数据目录: {result.data_dir.resolve()}")
    console.print(f"Database / 数据库: {result.database_url}")
    if result.admin_password:
        console.print(
            f"[bold green]Admin user / 管理员: {result.admin_username}   password / 密码: "
            f"{result.admin_password}[/]\n(shown once — write it down / 仅显示一次，请妥善保存)"
        )
    else:
        console.print("Users already exist; no new admin created. / 已有用户，未新建管理员。")


@db_app.command(
    "upgrade",
    epilog="Example: TIERWISE_DATABASE_URL=postgresql+psycopg://u@host/db tierwise db upgrade",
)
def db_upgrade(data_dir: DataDirOpt = None) -> None:
    """Apply database migrations up to the newest version."""
    from tierwise.store import db

    settings = _settings(data_dir)
    engine = pipeline.open_store(settings)
    console.print(f"Database at revision {db.current_revision(engine)}")
    engine.dispose()


@app.command("demo-data", epilog="Example: tierwise demo-data --customers 3000 --out demo/")
def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    customers: Annotated[int, typer.Option(min=10, help="Number of customers.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same files).")] = 42,
    fmt: Annotated[str, typer.Option("--format", help="auto | csv | xlsx | parquet")] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Write a realistic bilingual demo data set (all seven tables)."""
    from tierwise.demo import generate

    with _progress(disable=as_json) as bar:
        tasks: dict[str, Any] = {}

        def step(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(kind, total=total)
            bar.update(tasks[kind], completed=done, total=total)

        summary = generate(customers=customers, out=out, seed=seed, fmt=fmt, progress=step)  # type: ignore[arg-type]
    rows = {k: int(v) for k, v in summary.rows.items()}
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "paths": {k: str(v) for k, v in summary.paths.items()},
                    "rows": rows,
                    "seed": summary.seed,
                }
            )
        )
        return
    for kind, path in summary.paths.items():
        console.print(f"  {kind:<13} {rows.get(kind, 0):>10,}  {path}")


@app.command(epilog="Example: tierwise demo --customers 3000")
def demo(
    customers: Annotated[int, typer.Option(min=10, help="Number of demo customers.")] = 3000,
    data_dir: DataDirOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    lang: LangOpt = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web app when done.")
    ] = True,
) -> None:
    """Generate the demo data, import it, classify it, and serve the web app."""
    language = _lang(lang)
    settings = _settings(data_dir, mode="demo")
    result = pipeline.init(settings)
    out = settings.data_dir / "demo-files"
    demo_data(out=out, customers=customers, seed=seed, fmt="auto", as_json=False)
    options = ImportOptions(batch_size=settings.import_batch_size, lang=language)
    with _progress() as bar:
        tasks: dict[Path, Any] = {}

        def step(path: Path, done: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(path.name, total=None)
            bar.update(tasks[path], completed=done)

        reports = pipeline.import_paths([out], settings=settings, options=options, progress=step)
    for report in reports:
        _print_report(report, language)
    summary = pipeline.store_summary(settings)
    table = Table(title="Store / 数据库", title_justify="left")
    table.add_column("table / 表")
    table.add_column("rows / 行数", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    from tierwise import cli_classify

    cli_classify.classify_demo(settings, language)
    admin_password = result.admin_password or pipeline.reset_demo_admin(settings)
    team = pipeline.demo_users(settings)
    console.print(f"[bold green]Admin / 管理员: admin / {admin_password}[/]")
    console.print(
        f"Manager / 经理: {team.manager}, reps / 销售: {', '.join(team.reps[:3])}… "
        f"({len(team.reps)}), analyst / 分析师: analyst — password / 密码: {team.password}"
    )
    if serve:
        _serve(settings)


def _serve(settings: Settings, workers: int = 1) -> None:
    import os

    import uvicorn

    from tierwise.web import create_app

    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]Tierwise: {url}[/]  (Ctrl+C stops / 按 Ctrl+C 停止)")
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=settings.host, port=settings.port, log_level="warning"
        )
        return
    # worker processes build their app from the environment: pass the settings on through it
    for name, value in settings.model_dump(exclude_none=True).items():
        # a SecretStr prints as asterisks: pass the value itself on
        secret = getattr(value, "get_secret_value", None)
        os.environ[f"TIERWISE_{name.upper()}"] = str(secret() if secret else value)
    uvicorn.run(
        "tierwise.web:app_from_env", factory=True, host=settings.host, port=settings.port,
        workers=workers, log_level="warning",
    )  # fmt: skip


@app.command(epilog="Example: tierwise serve --port 8000")
def serve(
    data_dir: DataDirOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core is a good start).")
    ] = 1,
) -> None:
    """Serve the web app and the REST API over an existing data directory."""
    extra: dict[str, Any] = {}
    if host:
        extra["host"] = host
    if port:
        extra["port"] = port
    settings = _settings(data_dir, **extra)
    from tierwise.store import count_users

    if settings.database_url is None and not (settings.data_dir / "tierwise.db").exists():
        raise TierwiseError(
            f"There is no Tierwise data in {settings.data_dir.resolve()}; run `tierwise init` "
            "(or `tierwise demo`) first, or pass --data-dir.",
            key="cli.no_data",
            path=str(settings.data_dir.resolve()),
        )
    store = pipeline.open_store(settings)  # applies pending migrations
    try:
        with store.connect() as conn:
            if count_users(conn, active_only=True) == 0:
                raise TierwiseError(
                    "Nobody could sign in: the store has no active user. Run `tierwise init`.",
                    key="cli.no_user",
                )
    finally:
        store.dispose()
    _serve(settings, workers)


def _argv_lang(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def said(error: TierwiseError, lang: str) -> str:
    """The error in Chinese too, when the language is zh and the web catalogue has its key
    (one catalogue for the web app and the CLI); else its own English text."""
    if lang != "zh" or error.key is None:
        return str(error)
    from tierwise.web._i18n import messages, t

    if error.key not in messages():
        return str(error)
    try:
        return f"{t(error.key, 'zh', **error.params)}\n{error}"
    except (KeyError, IndexError):
        return str(error)


def main() -> None:
    try:
        app()
    except TierwiseError as exc:
        text = said(exc, _lang(_argv_lang(sys.argv[1:])))
        err_console.print(f"[bold red]Error / 错误:[/] {text}", highlight=False)
        raise SystemExit(2) from None


__all__ = ["app", "main"]


# classification commands register themselves on `app`
from tierwise import cli_act as _cli_act  # noqa: E402, F401
from tierwise import cli_classify as _cli_classify  # noqa: E402, F401
from tierwise import cli_evaluate as _cli_evaluate  # noqa: E402, F401
from tierwise import cli_models as _cli_models  # noqa: E402, F401
