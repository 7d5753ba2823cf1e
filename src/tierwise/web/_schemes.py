"""The scheme editor's workings: published versions, preview tokens, background previews and
their view, the common-edits form applied through the pydantic model.

See `tierwise.web.routes.schemes` for who may do what; the routes there are the thin doors.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import sqlalchemy as sa
from fastapi import Request
from starlette.datastructures import FormData

from tierwise._said import Said, say
from tierwise.access import Principal, scope_clause
from tierwise.classify import preview_store
from tierwise.classify._explain import label_text
from tierwise.classify._service import last_order_day
from tierwise.classify._store import current_scheme, publish_scheme
from tierwise.errors import DataError, NotFoundError
from tierwise.scheme import (
    INSUFFICIENT,
    Scheme,
    ScoreDimension,
    default_scheme,
    default_scheme_text,
    load_scheme,
    parse_scheme,
    scheme_hash,
)
from tierwise.scheme._io import to_data
from tierwise.scheme._lines import DocumentCheck, check_document
from tierwise.scheme._model import _Ordered
from tierwise.scheme._said import TOP_LEVEL, SchemeProblems, say_line
from tierwise.settings import Settings
from tierwise.store import read_only
from tierwise.store.tables import customers, schemes
from tierwise.web._i18n import LANGS, messages, t
from tierwise.web._jobs import BusyError

#: a preview token is good for this long (and only while the published version is unchanged)
PREVIEW_VALID_SECONDS: Final = 12 * 3600
#: previews kept in memory per process for the page to poll (oldest dropped first)
KEEP_RUNS: Final = 64
MAX_LABEL_TEXT: Final = 500
YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
                     "text/plain", "")  # fmt: skip

# one preview at a time per process: previews share the DuckDB copy, which each one syncs first
_PREVIEW_LOCK = threading.Lock()
_REGISTRY_LOCK = threading.Lock()


# -- reads ------------------------------------------------------------------------------------


def check_view(check: DocumentCheck, lang: str) -> dict[str, Any]:
    """`DocumentCheck.to_dict` with each problem said in ``lang`` (``text``) and its path as
    the editor shows it (``where``)."""
    data = check.to_dict()
    texts = messages()
    for error, problem in zip(data["errors"], check.problems, strict=True):
        error["text"] = say(problem.said, lang, texts)
        error["where"] = (
            t("scheme.check.top_level", lang) if problem.path == TOP_LEVEL else problem.path
        )
    return data


def said(error: Exception, lang: str) -> str:
    """An error of the editor in ``lang``: every problem of a refused scheme, else the error's
    catalogue entry, else its own (English) text."""
    problems = getattr(error, "problems", None)
    if problems:
        return "\n".join(say_line(p, lang, messages()) for p in problems)
    key, params = getattr(error, "key", None), getattr(error, "params", {})
    return say(Said(str(error), key=key, **params), lang, messages()) if key else str(error)


def _row(row: Any) -> dict[str, Any]:
    at = row.published_at
    return {
        "version": int(row.version),
        "name": row.name,
        "hash": row.hash,
        "note": row.note,
        "published_by": row.published_by,
        "published_at": at.isoformat() if at is not None else None,
    }


def versions_view(store: sa.Engine) -> dict[str, Any]:
    """Every published version, newest first."""
    with read_only(store).connect() as conn:
        rows = conn.execute(
            sa.select(schemes.c.version, schemes.c.name, schemes.c.hash, schemes.c.note,
                      schemes.c.published_by, schemes.c.published_at)
            .order_by(schemes.c.version.desc())
        ).all()  # fmt: skip
    versions = [_row(r) for r in rows]
    return {"current_version": versions[0]["version"] if versions else 0, "versions": versions}


def version_view(store: sa.Engine, version: int) -> dict[str, Any]:
    """A published version with its YAML document; `NotFoundError` if there is none."""
    with read_only(store).connect() as conn:
        row = conn.execute(sa.select(schemes).where(schemes.c.version == version)).first()
    if row is None:
        raise NotFoundError(f"Scheme version {version} does not exist.")
    return _row(row) | {"document": row.document, "default": False}


def current_view(store: sa.Engine) -> dict[str, Any]:
    """The published scheme; before the first publication, the shipped default (version 0)."""
    with read_only(store).connect() as conn:
        top = conn.scalar(sa.select(sa.func.max(schemes.c.version)))
    if top is None:
        return {
            "version": 0, "name": default_scheme().name, "hash": scheme_hash(default_scheme()),
            "note": None, "published_by": None, "published_at": None,
            "document": default_scheme_text(), "default": True,
        }  # fmt: skip
    return version_view(store, int(top))


def _scheme_at(conn: sa.Connection, version: int) -> Scheme:
    if version == 0:
        return default_scheme()
    document = conn.scalar(sa.select(schemes.c.document).where(schemes.c.version == version))
    if document is None:
        raise NotFoundError(f"Scheme version {version} does not exist.")
    return load_scheme(str(document))


# -- preview tokens ---------------------------------------------------------------------------


def _mac(settings: Settings, message: str) -> str:
    # a key of its own, derived from the secret key: a token is good for nothing else
    key = hashlib.sha256(b"tierwise:scheme-preview\0" + settings.require_secret_key().encode())
    return hmac.new(key.digest(), message.encode(), hashlib.sha256).hexdigest()


def preview_token(
    settings: Settings, *, digest: str, version: int, issued: int | None = None
) -> str:
    """A token saying: the document with hash ``digest`` was previewed against ``version``."""
    issued = int(time.time()) if issued is None else issued
    return f"{digest}.{version}.{issued}.{_mac(settings, f'{digest}.{version}.{issued}')}"


def check_token(settings: Settings, token: str | None, *, digest: str, version: int) -> None:
    """Refuse (`DataError`) unless ``token`` is a live preview token for this document and
    the currently published ``version``."""
    if not token:
        raise DataError("Preview this document before publishing it (no preview token).",
                        key="scheme.publish.no_token")  # fmt: skip
    parts = token.split(".")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        raise DataError("The preview token is malformed; preview the document again.",
                        key="scheme.publish.token_malformed")  # fmt: skip
    their_digest, their_version, issued, mac = parts
    expected = _mac(settings, f"{their_digest}.{their_version}.{issued}")
    if not hmac.compare_digest(mac, expected):
        raise DataError("The preview token is not genuine; preview the document again.",
                        key="scheme.publish.token_forged")  # fmt: skip
    if not hmac.compare_digest(their_digest, digest):
        raise DataError(
            "The document changed after its preview; preview this version of it, then publish.",
            key="scheme.publish.changed",
        )
    if int(their_version) != version:
        raise DataError(
            f"Version {version} was published after this preview (it compared with version "
            f"{their_version}); preview again to see what the draft changes now.",
            key="scheme.publish.version_moved",
            version=version,
            previewed=int(their_version),
        )
    if time.time() - int(issued) > PREVIEW_VALID_SECONDS:
        hours = PREVIEW_VALID_SECONDS // 3600
        raise DataError(f"The preview is more than {hours} hours old; preview the document again.",
                        key="scheme.publish.token_old", hours=hours)  # fmt: skip


# -- preview ----------------------------------------------------------------------------------


def require_preview(principal: Principal) -> None:
    principal.require("preview")


def not_classifying(request: Request) -> None:
    run = request.app.state.jobs.classify_run
    if run is not None and run.state == "running":
        raise BusyError("A classification is running; preview again when it has finished.",
                        key="scheme.preview.busy")  # fmt: skip


def _visible(conn: sa.Connection, principal: Principal, ids: list[str]) -> set[str]:
    if principal.role in ("admin", "analyst") or not ids:
        return set(ids)
    query = sa.select(customers.c.customer_id).where(
        customers.c.customer_id.in_(ids), scope_clause(principal)
    )
    return {str(r[0]) for r in conn.execute(query)}


def run_preview(
    settings: Settings, store: sa.Engine, principal: Principal, scheme: Scheme,
    *, as_of: date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`preview_store` for the caller: named downgrades in scope, plus the preview token."""
    require_preview(principal)
    with _PREVIEW_LOCK:
        data = preview_store(settings, store, scheme=scheme, as_of=as_of or last_order_day(store))
    with read_only(store).connect() as conn:
        for down in data["downgrades"].values():
            listed = down["customers"]
            seen = _visible(conn, principal, [str(c["customer_id"]) for c in listed])
            down["customers"] = [c for c in listed if str(c["customer_id"]) in seen]
            down["not_in_scope"] = len(listed) - len(down["customers"])
    digest = scheme_hash(scheme)
    version = int(data["published_version"])
    return data | {
        "document_hash": digest,
        "preview_token": preview_token(settings, digest=digest, version=version),
    }


@dataclass
class PreviewRun:
    """A preview started from the page, polled until done."""

    id: str
    user_id: int
    document: str
    scheme: Scheme
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    state: str = "running"  # running | done | failed
    result: dict[str, Any] | None = None
    published: Scheme | None = None
    error: str | None = None
    #: the error in each language (the page's; ``error`` stays the English of the API)
    error_said: dict[str, str] | None = None

    def elapsed(self) -> float:
        return round(
            self.seconds if self.seconds is not None else time.monotonic() - self.started, 1
        )


class Previews:
    """The page's preview runs of one app (in memory; a restart only means previewing again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, PreviewRun] = OrderedDict()

    def add(self, run: PreviewRun) -> None:
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > KEEP_RUNS:
                self._runs.popitem(last=False)

    def get(self, run_id: str, principal: Principal) -> PreviewRun:
        run = self._runs.get(run_id)
        if run is None or run.user_id != principal.user_id:
            raise NotFoundError(f"Preview {run_id} does not exist.")
        return run

    def running(self, principal: Principal) -> PreviewRun | None:
        with self._lock:
            mine = [r for r in self._runs.values() if r.user_id == principal.user_id]
        return next((r for r in mine if r.state == "running"), None)


def previews_of(request: Request) -> Previews:
    with _REGISTRY_LOCK:
        found = getattr(request.app.state, "scheme_previews", None)
        if found is None:
            found = Previews()
            request.app.state.scheme_previews = found
    assert isinstance(found, Previews)
    return found


def _work(settings: Settings, store: sa.Engine, principal: Principal, run: PreviewRun) -> None:
    try:
        run.result = run_preview(settings, store, principal, run.scheme)
        with read_only(store).connect() as conn:
            run.published = _scheme_at(conn, int(run.result["published_version"]))
        run.state = "done"
    except Exception as exc:  # the page shows why
        run.error = str(exc) or type(exc).__name__
        run.error_said = {lang: said(exc, lang) or run.error for lang in LANGS}
        run.state = "failed"
    finally:
        run.seconds = time.monotonic() - run.started


def start_preview(
    request: Request, principal: Principal, document: str, scheme: Scheme
) -> PreviewRun:
    require_preview(principal)
    not_classifying(request)
    previews = previews_of(request)
    running = previews.running(principal)
    if running is not None:  # one at a time per user: show the one that runs
        return running
    run = PreviewRun(secrets.token_urlsafe(16), principal.user_id, document, scheme)
    previews.add(run)
    request.app.state.jobs.submit(
        _work, request.app.state.settings, request.app.state.store, principal, run
    )
    return run


# -- publish ----------------------------------------------------------------------------------


def publish_draft(
    settings: Settings, store: sa.Engine, principal: Principal, *, document: str,
    token: str | None, note: str | None, ip: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Publish ``document`` after its preview; the audit entry is `publish_scheme`'s."""
    principal.require("publish")
    check = check_document(document)
    if check.scheme is None or not check.ok:
        raise SchemeProblems([
            Said(f"{p.path or ''} (line {p.line}): {p.message}", key="scheme.publish.at_line",
                 path=p.path or "", line=p.line, detail=p.said)
            for p in check.problems
        ])  # fmt: skip
    digest = scheme_hash(check.scheme)
    try:
        with store.begin() as conn:
            current = current_scheme(conn)
            check_token(settings, token, digest=digest, version=current.version)
            published = publish_scheme(
                conn,
                scheme=check.scheme,
                actor=principal.username,
                note=(note or "").strip() or None,
                actor_id=principal.user_id,
                ip=ip,
            )
    except sa.exc.IntegrityError:  # two publications at once: the version number is taken
        raise DataError(
            "Another version was published meanwhile; preview again.", key="scheme.publish.raced"
        ) from None
    return {"version": published.version, "hash": published.hash, "name": check.scheme.name,
            "note": (note or "").strip() or None, "published_by": principal.username}  # fmt: skip


# -- the page's views -------------------------------------------------------------------------


def _ordered_keys(dim: Any, keys: set[str]) -> list[str]:
    own: list[str] = [] if dim is None else dim.keys()
    if dim is not None and dim.ordered:
        own = list(reversed(own))  # highest first, as on the dashboard
    return [k for k in own if k in keys] + sorted(k for k in keys if k not in own)


def _text(dim: Any, key: str, lang: str, fallback: Any = None) -> str:
    """A label key's words: from ``dim``, else (a label the draft dropped) from ``fallback``."""
    if dim is not None and (dim.label(key) or key == INSUFFICIENT or "+" in key):
        return label_text(dim, key, lang)
    source = fallback if fallback is not None else dim
    return key if source is None else label_text(source, key, lang)


def preview_view(run: PreviewRun, lang: str) -> dict[str, Any]:
    """What the page shows of a finished preview, per dimension, in ``lang``."""
    data, draft, published = run.result or {}, run.scheme, run.published or default_scheme()
    dims = []
    for name, dim in draft.dimensions.items():
        old = published.dimensions.get(name)
        after: dict[str, int] = data.get("distribution", {}).get(name, {})
        matrix: dict[str, dict[str, int]] | None = data.get("migration", {}).get(name)
        before = {frm: sum(row.values()) for frm, row in (matrix or {}).items()}
        revenue = data.get("revenue_365d", {}).get(name, {})
        rows = [
            {"key": k, "text": _text(dim, k, lang, old), "after": after.get(k, 0),
             "before": None if matrix is None else before.get(k, 0),
             "revenue": revenue.get(k, 0.0)}
            for k in _ordered_keys(dim, set(after) | set(before))
        ]  # fmt: skip
        view: dict[str, Any] = {
            "name": name, "title": dim.title.get(lang), "new": matrix is None, "rows": rows,
            "held": data.get("held_by_hysteresis", {}).get(name, 0),
            "waiting": data.get("would_wait_for_approval", {}).get(name, 0),
            "moved": 0, "matrix": None, "downgrades": None,
        }  # fmt: skip
        if matrix is not None:
            froms = _ordered_keys(old, set(matrix))
            tos = _ordered_keys(dim, {k for row in matrix.values() for k in row})
            view["matrix"] = {
                "from": [{"key": k, "text": _text(old, k, lang, dim)} for k in froms],
                "to": [{"key": k, "text": _text(dim, k, lang, old)} for k in tos],
                "cells": [[matrix[f].get(k, 0) for k in tos] for f in froms],
            }
            view["moved"] = sum(n for f, row in matrix.items() for k, n in row.items() if k != f)
        down = data.get("downgrades", {}).get(name)
        if down is not None:
            view["downgrades"] = {
                "count": down["count"], "not_in_scope": down.get("not_in_scope", 0),
                "customers": [c | {"from_text": _text(old, c["from"], lang, dim),
                                   "to_text": _text(dim, c["to"], lang, old)}
                              for c in down["customers"]],
            }  # fmt: skip
        dims.append(view)
    return {"as_of": data.get("as_of"), "published_version": data.get("published_version"),
            "engine": data.get("engine"), "token": data.get("preview_token"),
            "hash": data.get("document_hash"), "dimensions": dims}  # fmt: skip


def _edit_dimension(scheme: Scheme, wanted: str | None) -> str:
    if wanted in scheme.dimensions:
        return str(wanted)
    if "value_tier" in scheme.dimensions:
        return "value_tier"
    scored = [n for n, d in scheme.dimensions.items() if isinstance(d, ScoreDimension)]
    return scored[0] if scored else next(iter(scheme.dimensions))


def _cut_values(dim: Any) -> tuple[str, str, list[float]] | None:
    """(cut kind, key, values) of an ordered dimension cut by thresholds or quantiles."""
    if not isinstance(dim, _Ordered) or dim.cut.by == "jenks":
        return None
    key = "points" if dim.cut.by == "thresholds" else "probs"
    return dim.cut.by, key, list(getattr(dim.cut, key) or [])


def edit_view(scheme: Scheme, wanted: str | None, lang: str) -> dict[str, Any]:
    """The common-edits form of one dimension: score weights, cut points, label texts."""
    name = _edit_dimension(scheme, wanted)
    dim = scheme.dimensions[name]
    cut = _cut_values(dim)
    return {
        "dimension": name,
        "hash": scheme_hash(scheme),
        "dimensions": [{"name": n, "title": d.title.get(lang)} for n, d in scheme.dimensions.items()],
        "method": dim.method,
        "components": [{"feature": c.feature, "symbol": c.symbol, "weight": c.weight}
                       for c in dim.components] if isinstance(dim, ScoreDimension) else [],
        "cut": None if cut is None else {"by": cut[0], "key": cut[1], "values": cut[2]},
        "jenks": isinstance(dim, _Ordered) and dim.cut.by == "jenks",
        "labels": [{"key": label.key, "zh": label.zh, "en": label.en} for label in dim.labels],
    }  # fmt: skip


def _number(form: FormData, name: str, what: Said) -> float:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{what} must be a number (got {text!r}).", key="scheme.edit.not_number",
                        what=what, value=repr(text)) from None  # fmt: skip


def apply_edit(scheme: Scheme, form: FormData) -> tuple[Scheme, bool]:
    """``scheme`` with the form's values of dimension ``edit_dim``; (scheme, changed).

    The edit goes through the model: the YAML data of the scheme is changed and validated
    again (`parse_scheme`), so the result is a sound scheme or a `SchemeError` naming the path.
    """
    name = form.get("edit_dim")
    if not isinstance(name, str) or name not in scheme.dimensions:
        raise DataError(f"The scheme has no dimension {name!r} to edit.",
                        key="scheme.edit.no_dimension", name=repr(name))  # fmt: skip
    dim = scheme.dimensions[name]
    data = to_data(scheme)
    target = data["dimensions"][name]
    changed = False
    if isinstance(dim, ScoreDimension):
        for i, comp in enumerate(dim.components):
            what = Said(f"The weight of {comp.feature}", key="scheme.edit.weight",
                        feature=comp.feature)  # fmt: skip
            weight = _number(form, f"weight_{i}", what)
            if weight != comp.weight:
                target["components"][i]["weight"] = weight
                changed = True
    cut = _cut_values(dim)
    if cut is not None:
        _, key, values = cut
        for i, old in enumerate(values):
            what = Said(f"Cut value {i + 1}", key="scheme.edit.cut_value", n=i + 1)
            value = _number(form, f"cut_{i}", what)
            if value != old:
                target["cut"][key][i] = value
                changed = True
    for i, label in enumerate(dim.labels):
        for lang in ("zh", "en"):
            text = form.get(f"label_{i}_{lang}")
            if not isinstance(text, str):
                continue
            if len(text) > MAX_LABEL_TEXT:
                raise DataError(f"The {lang} text of label {label.key} is longer than "
                                f"{MAX_LABEL_TEXT} characters.", key="scheme.edit.label_too_long",
                                language=lang, label=label.key, limit=MAX_LABEL_TEXT)  # fmt: skip
            if text != getattr(label, lang):
                target["labels"][i][lang] = text
                changed = True
    return (parse_scheme(data), True) if changed else (scheme, False)
