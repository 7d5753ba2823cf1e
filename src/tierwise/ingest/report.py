"""The import report: what came in, what happened to every row, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tierwise._said import Said

MAX_LISTED = 1000  # problems listed in the report; all of them are stored with the batch


@dataclass(frozen=True)
class RowError:
    line: int | None
    column: str | None
    code: str
    message: str
    sheet: str | None = None
    value: str | None = None
    severity: str = "error"  # "error": row rejected; "warning": value dropped, row kept


@dataclass
class ImportReport:
    file: str
    kind: str | None = None
    format: str | None = None
    encoding: str | None = None
    encoding_detected: bool = True
    delimiter: str | None = None
    sheet: str | None = None
    dry_run: bool = False
    status: str = "ok"  # ok | failed
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    skipped_detail: dict[str, int] = field(default_factory=dict)
    customers_created: int = 0
    merged: int = 0
    warnings: int = 0
    blank_rows: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    #: English; each a `tierwise._said.Said` whose key (``import.note.*``) ``note_keys`` gives
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warning_list: list[RowError] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False
    batch_id: int | None = None
    job_id: int | None = None
    resumed_at_row: int = 0
    seconds: float = 0.0

    @property
    def conserved(self) -> bool:
        """Invariant I2: every row is accounted for exactly once."""
        return self.rows_in == self.inserted + self.updated + self.skipped + self.rejected

    def skip(self, reason: str, n: int) -> None:
        if n:
            self.skipped += n
            self.skipped_detail[reason] = self.skipped_detail.get(reason, 0) + n

    def add_problems(self, problems: list[RowError]) -> None:
        for p in problems:
            bucket = self.errors if p.severity == "error" else self.warning_list
            if len(bucket) < MAX_LISTED:
                bucket.append(p)
            else:
                self.errors_truncated = True
        self.warnings += sum(1 for p in problems if p.severity != "error")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["conserved"] = self.conserved
        data["warnings_list"] = data.pop("warning_list")
        data["note_keys"] = note_keys(self.notes)
        return data


def note_keys(notes: list[str]) -> list[dict[str, Any] | None]:
    """``{"key", "params", "text"}`` of each note (None for a note without a key), so that a
    stored report says its notes in the reader's language (`tierwise._said.said_of`)."""
    return [n.to_dict() if isinstance(n, Said) else None for n in notes]


__all__ = ["MAX_LISTED", "ImportReport", "RowError", "note_keys"]
