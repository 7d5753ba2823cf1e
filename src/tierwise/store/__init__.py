"""The system of record: tables, engines and migrations, repositories (keyword-only functions).

SQLite (embedded default) and PostgreSQL (teams) behave alike: see `tierwise.store.db` for the
engine set-up and `tierwise.store.tables` for the schema. Repository functions take the caller's
connection first and never commit: the caller owns the transaction, so a change and its audit
entry commit or roll back together.

Example::

    from tierwise.store import create_engine, upgrade, create_user, record

    engine = create_engine("sqlite:///tierwise-data/tierwise.db")
    upgrade(engine)
    with engine.begin() as conn:
        user_id = create_user(conn, username="admin", password="s3cret-pass", role="admin")
        record(conn, actor="cli:root", action="user.create", entity="user", entity_id=user_id)
"""

from __future__ import annotations

from tierwise.store import tables
from tierwise.store.audit import AuditEntry, jsonable, list_entries, record
from tierwise.store.db import (
    create_engine,
    current_revision,
    head_revision,
    json_dumps,
    read_only,
    upgrade,
)
from tierwise.store.jobs import (
    JobRow,
    create_job,
    find_resumable_import,
    finish_job,
    get_job,
    mark_stale_jobs_interrupted,
    pid_alive,
    start_job,
    update_progress,
)
from tierwise.store.tables import metadata, utcnow
from tierwise.store.users import (
    UserRow,
    count_users,
    create_user,
    generate_password,
    get_user,
    get_user_by_username,
    hash_password,
    normalise_username,
    password_needs_rehash,
    record_login,
    set_password,
    verify_password,
)

__all__ = [
    "AuditEntry",
    "JobRow",
    "UserRow",
    "count_users",
    "create_engine",
    "create_job",
    "create_user",
    "current_revision",
    "find_resumable_import",
    "finish_job",
    "generate_password",
    "get_job",
    "get_user",
    "get_user_by_username",
    "hash_password",
    "head_revision",
    "json_dumps",
    "jsonable",
    "list_entries",
    "mark_stale_jobs_interrupted",
    "metadata",
    "normalise_username",
    "password_needs_rehash",
    "pid_alive",
    "read_only",
    "record",
    "record_login",
    "set_password",
    "start_job",
    "tables",
    "update_progress",
    "upgrade",
    "utcnow",
    "verify_password",
]
