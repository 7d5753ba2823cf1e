"""The one place that wires the stages together: store → import → (later) classify → act."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConfigError, DataError
from tierwise.ingest import ImportOptions, ImportReport, import_file
from tierwise.ingest._columns import detect_kind
from tierwise.ingest._readers import open_source
from tierwise.ingest._schema import KINDS
from tierwise.settings import Settings
from tierwise.store import db, users

# customers first so that orders find them; products before orders for recommendations later
IMPORT_ORDER = ("customers", "products", "leads", "orders", "interactions", "feedback", "referrals")
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet")


def open_store(settings: Settings) -> sa.Engine:
    """The store's engine, with the data directory created and the schema migrated."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.create_engine(settings.store_url)
    db.upgrade(engine)
    return engine


@dataclass(frozen=True)
class InitResult:
    data_dir: Path
    database_url: str
    admin_username: str | None
    admin_password: str | None  # shown once; None if users already existed
    secret_key_file: Path


def init(settings: Settings, *, admin_username: str = "admin") -> InitResult:
    """Create the data directory, the secret key, the database and the first admin user."""
    engine = open_store(settings)
    key_file = settings.secret_key_file
    if settings.secret_key is None and not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48) + "\n", encoding="ascii")
        key_file.chmod(0o600)
    password = None
    username = None
    with engine.begin() as conn:
        if users.count_users(conn) == 0:
            password = users.generate_password()
            username = admin_username
            users.create_user(
                conn,
                username=admin_username,
                password=password,
                role="admin",
                display_name="Administrator",
            )
    engine.dispose()
    return InitResult(
        settings.data_dir, _safe_url(settings.store_url), username, password, key_file
    )


def reset_demo_admin(settings: Settings, *, username: str = "admin") -> str:
    """Demo mode only: a fresh password for the admin, so `make demo` can always print one."""
    if settings.mode != "demo":
        raise ConfigError("Resetting the admin password this way is for demo mode only.")
    password = users.generate_password()
    engine = open_store(settings)
    try:
        with engine.begin() as conn:
            user = users.get_user_by_username(conn, username=username)
            if user is None:
                users.create_user(conn, username=username, password=password, role="admin")
            else:
                users.set_password(conn, user_id=user.id, password=password)
                conn.execute(sa.text("DELETE FROM sessions WHERE user_id = :u"), {"u": user.id})
    finally:
        engine.dispose()
    return password


def demo_users(settings: Settings) -> Any:
    """Demo mode: the demo manager, reps (owning their customers) and analyst."""
    from tierwise.demo import create_demo_users

    if settings.mode != "demo":
        raise ConfigError("Demo users are for demo mode only.")
    engine = open_store(settings)
    try:
        with engine.begin() as conn:
            return create_demo_users(conn)
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def files_in_order(folder: Path) -> list[tuple[Path, str]]:
    """The importable files of a folder with their kinds, in dependency order."""
    found: list[tuple[Path, str]] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith((".", "~$")):
            continue
        with open_source(path) as source:
            if not source.info.header:
                continue
            kind = detect_kind(source.info.header, path)
        found.append((path, kind))
    if not found:
        raise DataError(f"No CSV, XLSX or Parquet files in {folder}.")
    return sorted(found, key=lambda pk: (IMPORT_ORDER.index(pk[1]), pk[0].name))


def import_paths(
    paths: list[Path],
    *,
    settings: Settings,
    options: ImportOptions,
    actor: str = "cli",
    progress: Callable[[Path, int], None] | None = None,
) -> list[ImportReport]:
    """Import files (or every file of a folder, customers first) into the store."""
    engine = open_store(settings)
    todo: list[tuple[Path, str | None]] = []
    for path in paths:
        if path.is_dir():
            todo.extend(files_in_order(path))
        else:
            todo.append((path, None))
    reports = []
    try:
        for path, kind in todo:
            opts = options if kind is None or options.kind else _with_kind(options, kind)
            report = import_file(
                path,
                engine=engine,
                options=opts,
                actor=actor,
                progress=_per_file(progress, path) if progress else None,
            )
            acted(engine, report)
            reports.append(report)
    finally:
        engine.dispose()
    return reports


def acted(engine: sa.Engine, report: ImportReport) -> None:
    """What an import starts in the act stage at once (complaints join their queue)."""
    if report.dry_run or not report.kind:
        return
    from tierwise.act import after_import
    from tierwise.store.tables import utcnow

    after_import(engine, kind=report.kind, changed=report.inserted + report.updated, now=utcnow())


def _per_file(
    progress: Callable[[Path, int], None], path: Path
) -> Callable[[int, int | None], None]:
    def report(done: int, _total: int | None) -> None:
        progress(path, done)

    return report


def _with_kind(options: ImportOptions, kind: str) -> ImportOptions:
    from dataclasses import replace

    assert kind in KINDS
    return replace(options, kind=kind)


@contextmanager
def store_connection(settings: Settings) -> Iterator[sa.Connection]:
    engine = open_store(settings)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def store_summary(settings: Settings) -> dict[str, int]:
    """Row counts of the canonical tables (what `make demo` prints after importing)."""
    from tierwise.store import tables

    counts: dict[str, int] = {}
    with store_connection(settings) as conn:
        for kind in KINDS:
            table = tables.metadata.tables[kind]
            counts[kind] = int(
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
        created = tables.metadata.tables["customers"]
        counts["customers_created_from_other_files"] = int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(created)
                .where(created.c.created_from.is_not(None))
            ).scalar_one()
        )
        counts["customer_merges"] = int(
            conn.execute(
                sa.select(sa.func.count()).select_from(tables.metadata.tables["customer_aliases"])
            ).scalar_one()
        )
    return counts


__all__ = [
    "IMPORT_ORDER",
    "InitResult",
    "demo_users",
    "files_in_order",
    "import_paths",
    "init",
    "open_store",
    "reset_demo_admin",
    "store_summary",
]
