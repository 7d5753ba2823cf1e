"""The evaluation's numbers kept on disk, one generation per set of published snapshots.

A published snapshot never changes (its labels, its features file, its model report), so what
the evaluation computes from the published snapshots can be kept until another one is
published: ``DATA_DIR/cache/evaluation/<generation>/<section>-<key>.json``. The generation
digests the published snapshots (id, as-of date, scheme version, result hash) with the cache
version, the key digests what else the section depends on (dimension, the snapshot pair, cost
settings, thresholds, and for the cost to serve the store's order and interaction rows). The
first write of a new generation removes the older ones.

Files are written to a temporary name and renamed, so a reader sees a whole file or none;
two workers missing at once both compute and the last rename wins (the same numbers).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import sqlalchemy as sa

from tierwise import __version__

#: bump when a section's numbers change meaning or shape
VERSION: Final = 1
T = TypeVar("T")


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def generation(snapshots: Sequence[sa.Row[Any]]) -> str:
    """The cache generation of these published snapshots (oldest first)."""
    ids = [(int(s.id), s.as_of.isoformat(), int(s.scheme_version), s.hash) for s in snapshots]
    return _digest({"v": VERSION, "tierwise": __version__, "snapshots": ids})


class Cache:
    """Sections of one generation; ``hits``/``misses`` count this object's look-ups and
    ``seconds`` times the sections it computed."""

    def __init__(self, data_dir: Path, generation: str, *, enabled: bool = True) -> None:
        self.root = data_dir / "cache" / "evaluation"
        self.folder = self.root / generation
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        #: seconds each section missed here took to compute
        self.seconds: dict[str, float] = {}

    def path(self, section: str, params: dict[str, Any]) -> Path:
        return self.folder / f"{section}-{_digest(params)}.json"

    def fetch(self, section: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The cached value of ``section`` with ``params``, computed and stored on a miss."""
        path = self.path(section, params)
        if self.enabled:
            try:
                value: T = json.loads(path.read_text(encoding="utf-8"))["value"]
            except (OSError, ValueError, KeyError):
                pass  # missing, or written by a crashed process: compute again
            else:
                self.hits += 1
                return value
        self.misses += 1
        started = time.perf_counter()
        body = json.dumps(
            {"section": section, "params": params, "value": compute()},
            ensure_ascii=False, default=str,
        )  # fmt: skip
        self.seconds[section] = round(time.perf_counter() - started, 3)
        if self.enabled:
            self._write(path, body)
        # what a hit would return (JSON types: lists, string keys), cold or warm alike
        fresh: T = json.loads(body)["value"]
        return fresh

    def _write(self, path: Path, body: str) -> None:
        fresh = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            self._drop_older()
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            Path(tmp).replace(path)
        except OSError:  # a full disk costs the next request a recomputation, nothing more
            Path(tmp).unlink(missing_ok=True)

    def _drop_older(self) -> None:
        for other in self.root.iterdir():  # a handful of generations at most
            if other.is_dir() and other != self.folder:
                shutil.rmtree(other, ignore_errors=True)

    def stats(self) -> dict[str, Any]:
        return {"generation": self.folder.name, "hits": self.hits, "misses": self.misses,
                "computed_s": dict(self.seconds)}  # fmt: skip


__all__ = ["VERSION", "Cache", "generation"]
