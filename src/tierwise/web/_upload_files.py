"""The import wizard's uploads: private folders, sanitised names, expiry, an upload's state.

An upload lives in ``DATA_DIR/uploads/<random id>/`` (mode 0700): the file under its sanitised
name (the client's name is never trusted: no path parts, a known suffix), ``meta.json`` (owner,
state, detection, the user's choices) and the reports of the last dry run and of the real run.
Only the uploading user can see an upload; anyone else is told it does not exist. The folder
goes 24 hours after the upload. The progress of the imports this process runs is kept here too.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierwise.access import Principal
from tierwise.errors import DataError, NotFoundError, TierwiseError
from tierwise.ingest import (
    Kind,
)
from tierwise.settings import Settings
from tierwise.store import jobs as job_rows
from tierwise.web._i18n import t

SUFFIXES: Final = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet")


TTL: Final = timedelta(hours=24)


MAX_PENDING: Final = 50  # uploads one user may keep at a time


CHUNK: Final = 1 << 20


DATE_FORMATS: Final = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


_ID: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")


_UNSAFE_CHARS: Final = re.compile(r"[^\w\-. ()（）]+")


# 03/04/2024, 3-4-24, 03.04.2024 (optionally followed by a time): day and month both <= 12
_DAY_MONTH: Final = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:\D.*)?")


_SAMPLE_ROWS: Final = 200


_SAMPLES: Final = 3


_SAMPLE_CHARS: Final = 60


State = Literal["uploaded", "running", "done", "failed", "interrupted"]


Problem = dict[str, Any]


class UploadTooLarge(DataError):
    """The upload is larger than ``settings.max_upload_mb``."""


class ImportBusy(TierwiseError):
    """An import is already running (one at a time: SQLite has a single writer)."""


class Choices(BaseModel):
    """What the user chose in the wizard; every field is optional and defaults to the detection.

    ``mapping`` maps a column header of the file to a canonical field of the kind, or to null to
    ignore the column; columns not named keep their detected field.
    """

    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = Field(None, description="customers, orders, ...; detected if omitted")
    sheet: str | None = Field(None, max_length=200, description='Excel sheet name, or "*"')
    date_format: str | None = Field(
        None, description=f"for ambiguous day/month dates, one of {', '.join(DATE_FORMATS)}"
    )
    on_duplicate: Literal["update", "skip", "error"] = "update"
    strict: bool = Field(False, description="reject rows that reference unknown customers")
    mapping: dict[str, str | None] = Field(default_factory=dict, max_length=2000)


@dataclass
class Upload:
    id: str
    user_id: int
    name: str
    size: int
    created_at: datetime
    folder: Path
    state: State = "uploaded"
    detected: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def path(self) -> Path:
        return self.folder / self.name

    @property
    def has_file(self) -> bool:
        return self.path.is_file()

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "size": self.size,
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "detected": self.detected,
            "choices": self.choices,
            "error": self.error,
            "pid": self.pid,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_meta(cls, folder: Path, data: dict[str, Any]) -> Upload:
        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        created = when(data["created_at"])
        assert created is not None
        return cls(
            id=str(data["id"]), user_id=int(data["user_id"]), name=str(data["name"]),
            size=int(data["size"]), created_at=created, folder=folder, state=data["state"],
            detected=data.get("detected") or {}, choices=data.get("choices") or {},
            error=data.get("error"), pid=data.get("pid"), started_at=when(data.get("started_at")),
            finished_at=when(data.get("finished_at")),
        )  # fmt: skip


@dataclass
class _Progress:
    upload_id: str
    rows_done: int = 0
    rows_estimate: int | None = None
    started: float = field(default_factory=time.monotonic)


# live progress of the imports this process runs, and the one running import per data directory
_LOCK = threading.Lock()


# load-change-save of an upload's meta.json, so that two requests cannot undo each other
_META = threading.RLock()


_PROGRESS: dict[str, _Progress] = {}


_RUNNING: dict[str, str] = {}


def _now() -> datetime:
    return datetime.now(UTC)


def uploads_root(settings: Settings) -> Path:
    root = settings.data_dir / "uploads"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _write_json(path: Path, data: Any) -> None:
    """Atomically: a poll reading the file meanwhile sees the old or the new content."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, default=str)
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _save(upload: Upload) -> None:
    _write_json(upload.folder / "meta.json", upload.meta())


def safe_name(raw: str | None, *, lang: str) -> str:
    """The client's file name made harmless: no directories, no control or reserved characters,
    no leading dot, a supported suffix (lower-cased) and at most 80 characters before it.

    >>> safe_name("../../etc/客户 名单.CSV", lang="en")
    '客户 名单.csv'
    """
    name = unicodedata.normalize("NFKC", raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in SUFFIXES:
        raise DataError(t("import.bad_type", lang, types=" ".join(SUFFIXES)))
    stem = _UNSAFE_CHARS.sub("_", stem).strip(" ._")[:80].strip(" ._") or "upload"
    return stem + suffix


def purge_expired(settings: Settings, *, now: datetime | None = None) -> int:
    """Delete the upload folders older than 24 hours (except a running import's); the count."""
    now = now or _now()
    removed = 0
    for folder in uploads_root(settings).iterdir():
        if not folder.is_dir():
            continue
        data = _read_json(folder / "meta.json")
        try:
            created = datetime.fromisoformat(data["created_at"]) if data else None
        except (KeyError, TypeError, ValueError):
            created = None
        if created is None:  # a half-written upload: judge by the folder's age
            created = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
        running = bool(data) and data.get("state") == "running" and data["id"] in _PROGRESS
        if now - created > TTL and not running:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


_SWEPT: dict[str, float] = {}  # data directory -> when its uploads were last swept


def _sweep_now_and_then(settings: Settings) -> None:
    """Purge expired uploads at most once a minute, so that old files go even if nobody opens
    the import page (every door into an upload passes here)."""
    key, now = str(settings.data_dir.resolve()), time.monotonic()
    with _LOCK:
        due = now - _SWEPT.get(key, -1e9) > 60
        if due:
            _SWEPT[key] = now
    if due:
        purge_expired(settings)


def _folder(settings: Settings, upload_id: str) -> Path | None:
    if not _ID.fullmatch(upload_id):
        return None
    folder = uploads_root(settings) / upload_id
    return folder if folder.is_dir() else None


def load(settings: Settings, *, principal: Principal, upload_id: str) -> Upload:
    """The caller's upload ``upload_id``; another user's, an expired or a missing one is
    `NotFoundError` alike (an id must not reveal that it exists)."""
    principal.require("import")
    _sweep_now_and_then(settings)
    folder = _folder(settings, upload_id)
    data = _read_json(folder / "meta.json") if folder else None
    if folder is None or not data or data.get("user_id") != principal.user_id:
        raise NotFoundError(f"Upload {upload_id[:64]!r} does not exist.")
    upload = Upload.from_meta(folder, data)
    if _now() - upload.created_at > TTL and upload.id not in _PROGRESS:
        shutil.rmtree(folder, ignore_errors=True)
        raise NotFoundError(f"Upload {upload_id[:64]!r} does not exist.")
    return upload


def list_uploads(settings: Settings, *, principal: Principal) -> list[dict[str, Any]]:
    """The caller's uploads of the last 24 hours, newest first."""
    principal.require("import")
    purge_expired(settings)
    found: list[Upload] = []
    for folder in uploads_root(settings).iterdir():
        data = _read_json(folder / "meta.json") if folder.is_dir() else None
        if data and data.get("user_id") == principal.user_id:
            found.append(Upload.from_meta(folder, data))
    found.sort(key=lambda u: u.created_at, reverse=True)
    return [_summary(u) for u in found]


def _summary(upload: Upload) -> dict[str, Any]:
    return {
        "upload_id": upload.id,
        "name": upload.name,
        "size": upload.size,
        "created_at": upload.created_at.isoformat(),
        "state": _state(upload),
        "kind": upload.choices.get("kind") or upload.detected.get("kind"),
    }


def _state(upload: Upload) -> State:
    if upload.state != "running":
        return upload.state
    if upload.id in _PROGRESS:
        return "running"
    if upload.pid is not None and upload.pid != os.getpid() and job_rows.pid_alive(upload.pid):
        return "running"  # another worker process runs it
    return "interrupted"


def _status(upload: Upload) -> dict[str, Any]:
    state = _state(upload)
    live = _PROGRESS.get(upload.id)
    report = _read_json(upload.folder / "report.json") if state == "done" else None
    seconds = None
    if live is not None:
        seconds = round(time.monotonic() - live.started, 1)
    elif upload.started_at and upload.finished_at:
        seconds = round((upload.finished_at - upload.started_at).total_seconds(), 1)
    done = live.rows_done if live else (report or {}).get("rows_in", 0)
    estimate = live.rows_estimate if live else None
    percent = None
    if estimate:
        percent = min(99, int(100 * done / estimate)) if state == "running" else 100
    return {
        "upload_id": upload.id,
        "state": state,
        "rows_done": done,
        "rows_estimate": estimate,
        "percent": percent,
        "seconds": seconds,
        "error": upload.error,
        "report": report,
    }
