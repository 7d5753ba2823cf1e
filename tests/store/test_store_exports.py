"""The public API of tierwise.store is deliberate: adding or removing a name updates this test."""

from __future__ import annotations

import tierwise.store

PUBLIC = {
    # engines and migrations
    "create_engine",
    "current_revision",
    "head_revision",
    "json_dumps",
    "read_only",
    "upgrade",
    # schema
    "metadata",
    "tables",
    "utcnow",
    # users
    "UserRow",
    "count_users",
    "create_user",
    "generate_password",
    "get_user",
    "get_user_by_username",
    "hash_password",
    "normalise_username",
    "password_needs_rehash",
    "record_login",
    "set_password",
    "verify_password",
    # jobs
    "JobRow",
    "create_job",
    "find_resumable_import",
    "finish_job",
    "get_job",
    "mark_stale_jobs_interrupted",
    "pid_alive",
    "start_job",
    "update_progress",
    # audit
    "AuditEntry",
    "jsonable",
    "list_entries",
    "record",
}


def test_public_names_are_exactly_these() -> None:
    assert set(tierwise.store.__all__) == PUBLIC
    assert len(tierwise.store.__all__) == len(PUBLIC)
    for name in PUBLIC:
        assert getattr(tierwise.store, name) is not None
