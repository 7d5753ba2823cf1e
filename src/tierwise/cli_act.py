"""CLI commands of the act stage: tasks, pool, complaints, care, export, webhooks, schedule.

Registered on ``tierwise.cli.app``; each command parses its options and calls one library
function of `tierwise.act` in one transaction. ``--user`` names who acts (scoping and the audit
log follow that user's role); without it, the first active administrator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import sqlalchemy as sa
import typer
from rich.table import Table

from tierwise import act, pipeline
from tierwise.access import Principal, load_principal
from tierwise.cli import DataDirOpt, JsonOpt, LangOpt, _lang, _settings, app, console
from tierwise.errors import ConfigError, DataError, NotFoundError
from tierwise.settings import Settings
from tierwise.store.tables import users

T = TypeVar("T")

tasks_app = typer.Typer(help="Follow-up tasks (跟进任务): My work, done, snooze, skip.")
pool_app = typer.Typer(help="Owners and the public pool (公海): claim, release, assign.")
complaints_app = typer.Typer(help="Complaints by tier priority and SLA (投诉处理).")
webhooks_app = typer.Typer(help="Webhooks (企业微信/钉钉/飞书/JSON): add, list, test, log.")
app.add_typer(tasks_app, name="tasks")
app.add_typer(pool_app, name="pool")
app.add_typer(complaints_app, name="complaints")
app.add_typer(webhooks_app, name="webhooks")

UserOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--user", help="Act as this user (default: the first active administrator)."),
]
NowOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--now", help="The time to act at (UTC, YYYY-MM-DD[THH:MM]; default now).",
                 hidden=True),
]  # fmt: skip

_L: dict[str, tuple[str, str]] = {
    "due": ("due", "到期"),
    "customer": ("customer", "客户"),
    "tier": ("tier", "等级"),
    "channel": ("channel", "渠道"),
    "why": ("why", "原因"),
    "none": ("Nothing to do.", "没有待办事项。"),
    "deadline": ("deadline", "截止"),
    "complaint": ("complaint", "投诉"),
    "last_contact": ("last contact", "上次联系"),
    "value": ("value (365 d)", "近一年价值"),
    "status": ("status", "状态"),
    "event": ("event", "事件"),
}


def _t(key: str, lang: str) -> str:
    en, zh = _L[key]
    return zh if lang == "zh" else en


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise DataError(f"--now {value!r} is not a time; use YYYY-MM-DDTHH:MM.") from None


def _who(conn: sa.Connection, username: str | None) -> Principal:
    query = sa.select(users.c.id).where(users.c.is_active.is_(True))
    if username is None:
        query = query.where(users.c.role == "admin").order_by(users.c.id).limit(1)
    else:
        query = query.where(users.c.username == username.strip().lower())
    user_id = conn.scalar(query)
    if user_id is None:
        if username:
            raise NotFoundError(
                f"No active user {username!r}; `tierwise users list` shows them.",
                key="cli.unknown_user", user=repr(username),
            )  # fmt: skip
        raise NotFoundError(
            "No active administrator; run `tierwise init` or pass --user.", key="cli.no_admin"
        )
    return load_principal(conn, user_id=int(user_id))


@contextmanager
def _session(data_dir: Path | None) -> Iterator[tuple[sa.Engine, sa.Connection]]:
    """The store and one transaction: committed when the command succeeds."""
    store = pipeline.open_store(_settings(data_dir))
    try:
        with store.begin() as conn:
            yield store, conn
    finally:
        store.dispose()


def _run(
    data_dir: Path | None, user: str | None, call: Callable[[sa.Connection, Principal], T]
) -> T:
    with _session(data_dir) as (_, conn):
        return call(conn, _who(conn, user))


def _dump(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], lang: str) -> None:
    if not rows:
        console.print(_t("none", lang))
        return
    table = Table(show_lines=False)
    for _, title in columns:
        table.add_column(title)
    for row in rows:
        table.add_row(*("" if row.get(k) is None else str(row.get(k)) for k, _ in columns))
    console.print(table)


# --- tasks ----------------------------------------------------------------------------------


@tasks_app.command("list", epilog="Example: tierwise tasks list --user rep01 --lang zh")
def tasks_list(
    user: UserOpt = None,
    due: Annotated[
        str, typer.Option(help="today (and overdue), overdue, upcoming or all")
    ] = "today",
    everyone: Annotated[
        bool, typer.Option("--everyone", help="The team's (or all) tasks.")
    ] = False,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """My work: follow-ups due today and overdue, with why and how."""
    language = _lang(lang)
    if due not in ("today", "overdue", "upcoming", "all"):
        raise DataError(f"--due {due!r} must be today, overdue, upcoming or all.")
    rows = _run(data_dir, user, lambda conn, who: act.list_tasks(
        conn, principal=who, now=_now(now), due=due, lang=language, everyone=everyone))  # type: ignore[arg-type]  # fmt: skip
    if as_json:
        _dump(rows)
        return
    _table(rows, [("id", "#"), ("due_at", _t("due", language)),
                  ("customer_name", _t("customer", language)), ("tier_text", _t("tier", language)),
                  ("channel_text", _t("channel", language)), ("reason", _t("why", language))],
           language)  # fmt: skip


@tasks_app.command("generate", epilog="Example: tierwise tasks generate --json")
def tasks_generate(
    lang: LangOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Plan follow-ups from the playbooks (idempotent: a second run creates nothing)."""
    with _session(data_dir) as (_, conn):
        data = act.plan(conn, now=_now(now)).as_dict()
    if as_json:
        _dump(data)
        return
    language = _lang(lang)
    console.print(
        ("新建 {created}，重新安排 {replanned}，取消 {cancelled}，通知 {notices}"
         if language == "zh" else
         "created {created}, re-planned {replanned}, cancelled {cancelled}, notices {notices}"
         ).format(**data)
    )  # fmt: skip


@tasks_app.command(
    "done",
    epilog='Example: tierwise tasks done 42 --note "called, will order next week" --user rep01',
)
def tasks_done(
    task_id: int,
    note: Annotated[Optional[str], typer.Option(help="What was said or agreed.")] = None,  # noqa: UP045
    outcome: Annotated[str, typer.Option(help="e.g. done, won_back, lost")] = "done",
    user: UserOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Complete a task: the contact is logged and the next one planned."""
    data = _run(data_dir, user, lambda conn, who: act.complete_task(
        conn, principal=who, task_id=task_id, now=_now(now), note=note, outcome=outcome))  # fmt: skip
    _dump(data) if as_json else console.print(f"✓ {data}")


@tasks_app.command(
    "snooze",
    epilog='Example: tierwise tasks snooze 42 --until 2026-12-09 --reason "on holiday" --user rep01',
)
def tasks_snooze(
    task_id: int,
    until: Annotated[str, typer.Option(help="YYYY-MM-DD[THH:MM] (UTC)")],
    reason: Annotated[str, typer.Option(help="Why (required).")] = "",
    user: UserOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Put a task off until a later time; a reason is required."""
    try:
        moment = datetime.fromisoformat(until)
    except ValueError:
        raise DataError(
            f"--until {until!r} is not a time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM."
        ) from None
    data = _run(data_dir, user, lambda conn, who: act.snooze_task(
        conn, principal=who, task_id=task_id, until=moment, reason=reason, now=_now(now)))  # fmt: skip
    _dump(data) if as_json else console.print(f"✓ {data}")


@tasks_app.command(
    "skip",
    epilog='Example: tierwise tasks skip 42 --reason "customer asked for no calls" --user rep01',
)
def tasks_skip(
    task_id: int,
    reason: Annotated[str, typer.Option(help="Why (required).")] = "",
    user: UserOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Skip a contact; a reason is required and the next one is planned."""
    data = _run(data_dir, user, lambda conn, who: act.skip_task(
        conn, principal=who, task_id=task_id, reason=reason, now=_now(now)))  # fmt: skip
    _dump(data) if as_json else console.print(f"✓ {data}")


@app.command(
    "schedule", epilog="Example: tierwise schedule   (run it every few minutes, e.g. from cron)"
)
def schedule(
    deliver: Annotated[bool, typer.Option(help="Send due webhooks too.")] = True,
    digests: Annotated[
        bool, typer.Option(help="Email the daily digests too (when TIERWISE_SMTP_HOST is set).")
    ] = True,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The periodic work (run it from cron): tasks, overdue events, pool recycling, complaint
    escalation, webhook deliveries and, with TIERWISE_SMTP_HOST set, each person's daily email
    digest of due and overdue work (once a day)."""
    settings = _settings(data_dir)
    store = pipeline.open_store(settings)
    try:
        _dump(act.run_schedule(store, now=_now(now), deliver=deliver,
                               smtp=settings.smtp() if digests else None,
                               lang=settings.language, secret_key=_secret_key(settings)))  # fmt: skip
    finally:
        store.dispose()


def _secret_key(settings: Settings) -> str | None:
    """The key webhook secrets are encrypted with; None when there is none (they then fail
    to sign and say why)."""
    try:
        return settings.require_secret_key()
    except ConfigError:
        return None


# --- pool -----------------------------------------------------------------------------------


@pool_app.command("list", epilog="Example: tierwise pool list --user rep01")
def pool_list(
    limit: int = 100,
    user: UserOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Customers in the pool, highest tier first."""
    language = _lang(lang)
    rows = _run(data_dir, user, lambda conn, who: act.list_pool(
        conn, principal=who, now=_now(now), limit=limit, lang=language))  # fmt: skip
    if as_json:
        _dump(rows)
        return
    _table(rows, [("customer_id", "ID"), ("name", _t("customer", language)),
                  ("tier_text", _t("tier", language)),
                  ("last_contact", _t("last_contact", language)),
                  ("value_365d", _t("value", language))], language)  # fmt: skip


@pool_app.command("claim", epilog="Example: tierwise pool claim C0001 --user rep01")
def pool_claim(
    customer_id: str,
    user: UserOpt = None,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Take a customer from the pool (daily limit, ex-owner cool-down and caps apply)."""
    _dump(_run(data_dir, user, lambda conn, who: act.claim(
        conn, principal=who, customer_id=customer_id, now=_now(now))))  # fmt: skip


@pool_app.command("release", epilog="Example: tierwise pool release C0001 --user rep01")
def pool_release(
    customer_id: str,
    reason: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    user: UserOpt = None,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Return a customer to the pool."""
    _dump(_run(data_dir, user, lambda conn, who: act.release(
        conn, principal=who, customer_id=customer_id, now=_now(now), reason=reason)))  # fmt: skip


@pool_app.command("recycle", epilog="Example: tierwise pool recycle --json")
def pool_recycle(now: NowOpt = None, data_dir: DataDirOpt = None) -> None:
    """Warn owners, and recycle customers nobody followed up within their tier's period."""
    with _session(data_dir) as (_, conn):
        _dump(act.recycle(conn, now=_now(now)))


@pool_app.command("assign", epilog="Example: tierwise pool assign --json")
def pool_assign(
    rule: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="region, industry, round_robin or load (default: the scheme's)"),
    ] = None,
    limit: int = 500,
    user: UserOpt = None,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Hand pool customers to reps by rule, within their caps (managers, admins)."""
    _dump(_run(data_dir, user, lambda conn, who: act.assign(
        conn, principal=who, now=_now(now), limit=limit, rule=rule)))  # fmt: skip


@pool_app.command(
    "caps", epilog="Example: tierwise pool caps rep01 --max-customers 300 --max-value 5000000"
)
def pool_caps(
    username: str,
    max_customers: Annotated[Optional[int], typer.Option()] = None,  # noqa: UP045
    max_value: Annotated[Optional[float], typer.Option()] = None,  # noqa: UP045
    regions: Annotated[Optional[str], typer.Option(help="Comma-separated region labels")] = None,  # noqa: UP045
    industries: Annotated[Optional[str], typer.Option(help="Comma-separated")] = None,  # noqa: UP045
    user: UserOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a rep's caps and the regions/industries assignment gives them."""

    def split(value: str | None) -> list[str] | None:
        return None if value is None else [v.strip() for v in value.split(",") if v.strip()]

    def call(conn: sa.Connection, who: Principal) -> dict[str, Any]:
        return act.set_caps(conn, principal=who, user_id=_who(conn, username).user_id,
                            max_customers=max_customers, max_value=max_value,
                            regions=split(regions), industries=split(industries))  # fmt: skip

    _dump(_run(data_dir, user, call))


# --- complaints -----------------------------------------------------------------------------


@complaints_app.command("list", epilog="Example: tierwise complaints list --lang zh")
def complaints_list(
    limit: int = 100,
    user: UserOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Unanswered complaints: highest tier first, then the nearest deadline."""
    language = _lang(lang)

    def call(conn: sa.Connection, who: Principal) -> list[dict[str, Any]]:
        act.track(conn, now=_now(now))
        return act.complaint_queue(conn, principal=who, now=_now(now), limit=limit, lang=language)

    rows = _run(data_dir, user, call)
    if as_json:
        _dump(rows)
        return
    for row in rows:
        row["flag"] = "⚠" if row["breached"] else ""
    _table(rows, [("flag", ""), ("feedback_id", _t("complaint", language)),
                  ("customer_name", _t("customer", language)), ("tier_text", _t("tier", language)),
                  ("deadline_at", _t("deadline", language)), ("text", "")], language)  # fmt: skip


@complaints_app.command("escalate", epilog="Example: tierwise complaints escalate --json")
def complaints_escalate(now: NowOpt = None, data_dir: DataDirOpt = None) -> None:
    """Escalate every complaint past its SLA to the owner's manager (once)."""
    with _session(data_dir) as (_, conn):
        act.track(conn, now=_now(now))
        _dump(act.escalate(conn, now=_now(now)))


@complaints_app.command(
    "respond", epilog='Example: tierwise complaints respond 17 --note "called back" --user rep01'
)
def complaints_respond(
    feedback_id: str,
    note: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    user: UserOpt = None,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Record the first response to a complaint (the SLA clock stops)."""
    _dump(_run(data_dir, user, lambda conn, who: act.respond(
        conn, principal=who, feedback_id=feedback_id, now=_now(now), note=note)))  # fmt: skip


# --- webhooks -------------------------------------------------------------------------------


@webhooks_app.command(
    "add",
    epilog="Example: tierwise webhooks add https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY --format wecom",
)
def webhooks_add(
    url: str,
    format: Annotated[
        str, typer.Option("--format", help="json, wecom, dingtalk or feishu")
    ] = "json",
    events: Annotated[Optional[str], typer.Option(help="Comma-separated (default: all)")] = None,  # noqa: UP045
    secret: Annotated[
        str | None, typer.Option(help="Signing secret (json, dingtalk, feishu); stored encrypted")
    ] = None,
    lang: LangOpt = None,
    user: UserOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Register a receiver for tier changes, churn warnings, overdue tasks and SLA breaches."""
    kinds = None if events is None else [e.strip() for e in events.split(",") if e.strip()]
    key = _secret_key(_settings(data_dir)) if secret else None
    if secret and key is None:
        raise ConfigError(
            "A webhook secret is stored encrypted with the secret key, and none is set: set "
            "TIERWISE_SECRET_KEY or run `tierwise init`.",
            key="err.webhook_secret_key",
        )
    _dump(_run(data_dir, user, lambda conn, who: act.add_endpoint(
        conn, principal=who, url=url, format=format, events=kinds, secret=secret,
        lang=_lang(lang), secret_key=key)))  # fmt: skip


@webhooks_app.command("list", epilog="Example: tierwise webhooks list")
def webhooks_list(user: UserOpt = None, data_dir: DataDirOpt = None) -> None:
    """Registered receivers (bot tokens in URLs are not shown)."""
    _dump(_run(data_dir, user, lambda conn, who: act.list_endpoints(conn, principal=who)))


@webhooks_app.command("log", epilog="Example: tierwise webhooks log --json")
def webhooks_log(limit: int = 50, user: UserOpt = None, data_dir: DataDirOpt = None) -> None:
    """The delivery log: newest deliveries, their attempts and last error."""
    _dump(_run(data_dir, user, lambda conn, who: act.delivery_log(
        conn, principal=who, limit=limit)))  # fmt: skip


@webhooks_app.command(
    "test", epilog="Example: tierwise webhooks test http://127.0.0.1:9000/hook --format json"
)
def webhooks_test(
    url: str,
    format: Annotated[
        str, typer.Option("--format", help="json, wecom, dingtalk or feishu")
    ] = "json",
    secret: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    lang: LangOpt = None,
) -> None:
    """Send one sample message to a URL now and show the answer (nothing is stored)."""
    language = _lang(lang)
    attempt = act.test_endpoint(url, format=format, secret=secret, lang=language)
    if attempt.ok:
        console.print(f"✓ {attempt.status_code} · {attempt.duration_ms} ms")
        return
    error = attempt.error_zh if language == "zh" else attempt.error
    raise DataError(f"{error} ({attempt.status_code or '-'}, {attempt.duration_ms} ms)")


def _default_to(group: typer.Typer, command: Callable[..., None], name: str) -> None:
    """``tierwise <group>`` without a subcommand runs ``<group> list``."""

    def main(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            ctx.invoke(command)

    main.__doc__ = f"Without a subcommand: `tierwise {name} list`."
    group.callback(invoke_without_command=True)(main)


_default_to(tasks_app, tasks_list, "tasks")
_default_to(pool_app, pool_list, "pool")
_default_to(complaints_app, complaints_list, "complaints")


# --- care and export ------------------------------------------------------------------------


@app.command("care", epilog="Example: tierwise care --days 30 --plan")
def care(
    days: Annotated[int, typer.Option(help="Look this many days ahead.")] = 30,
    plan_tasks: Annotated[
        bool, typer.Option("--plan", help="Create care tasks for owners.")
    ] = False,
    user: UserOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The care calendar (关怀): birthdays, anniversaries, 春节 / 中秋 / 端午 by tier."""
    from tierwise.act._care import care_calendar

    language = _lang(lang)
    rows = _run(data_dir, user, lambda conn, who: care_calendar(
        conn, principal=who, now=_now(now), days=days, lang=language, plan=plan_tasks))  # fmt: skip
    if as_json:
        _dump(rows)
        return
    _table(rows, [("day", _t("due", language)), ("customer_name", _t("customer", language)),
                  ("tier", _t("tier", language)), ("channel_text", _t("channel", language)),
                  ("reason", _t("event", language))], language)  # fmt: skip


@app.command(
    "export", epilog="Example: tierwise export --where value_tier=A,B --out targets.xlsx --lang zh"
)
def export(
    out: Annotated[Path, typer.Option("--out", help="A .xlsx, .csv or .parquet file")],
    where: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--where", help="dimension=label[,label] (repeatable), e.g. value_tier=A,B"),
    ] = None,
    user: UserOpt = None,
    lang: LangOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """A target list: the customers of a segment, with headers in zh or en."""
    from tierwise.act._target_export import export_targets

    filters: dict[str, list[str]] = {}
    for item in where or []:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise DataError(f"--where {item!r} must look like dimension=label[,label].")
        filters[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    language = _lang(lang)
    frame = _run(data_dir, user, lambda conn, who: export_targets(
        conn, principal=who, filters=filters, lang=language))  # fmt: skip
    act.write_table(frame, out)
    console.print(f"→ {out} ({frame.height:,} {'位客户' if language == 'zh' else 'customers'})")


__all__ = ["tasks_app"]
