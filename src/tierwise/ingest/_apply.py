"""Write one validated batch: resolve customers, merge duplicates, upsert by key, count it all.

Rows that share a key (or, for customers, a phone or email) inside one batch are written in
rounds — first occurrences, then second ones... — so the later ones meet the earlier ones in the
database exactly as they would in a later batch or a later file. Counting stays exact and the
result does not depend on where the batch boundaries fall.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa

from tierwise.ingest import _messages
from tierwise.ingest._hash import digest
from tierwise.ingest._schema import TABLES, Kind
from tierwise.ingest.report import ImportReport, RowError
from tierwise.store.bulk import insert_frame, lookup, to_db, update_frame

if TYPE_CHECKING:
    from tierwise.ingest._columns import ColumnMap
    from tierwise.ingest._readers import RawBatch
    from tierwise.ingest._validate import Checked
    from tierwise.ingest.importer import ImportOptions

_SEEN_SCHEMA = {
    "_k": pl.UInt64,
    "_seen_c": pl.UInt64,
    "_seen_line": pl.Int64,
    "_seen_outcome": pl.String,
    "_seen_pre": pl.UInt64,
}
_PK = {"customer_id": "customer_pk", "referrer_id": "referrer_pk", "referred_id": "referred_pk"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _previous_in_batch(rows: pl.DataFrame) -> list[pl.Series]:
    """``_in_c``/``_in_line``: content hash and line of the previous row of the same key.

    The window runs on the rows whose key repeats inside the batch only (a window over every
    row cost more than the rest of the sequencing); the others have no previous row here.
    """
    repeats = rows.get_column("_k").is_duplicated()
    c = pl.Series("_in_c", [None] * rows.height, dtype=pl.UInt64)
    line = pl.Series("_in_line", [None] * rows.height, dtype=pl.Int64)
    if not repeats.any():
        return [c, line]
    where = repeats.arg_true()
    inner = rows.filter(repeats).select(
        pl.col("_c").shift(1).over("_k").alias("_in_c"),
        pl.col("_line").shift(1).over("_k").alias("_in_line"),
    )
    return [
        c.scatter(where, inner.get_column("_in_c")),
        line.scatter(where, inner.get_column("_in_line")),
    ]


class BatchWriter:
    """Applies batches of one import to the store and keeps the report's counters."""

    def __init__(
        self,
        conn: sa.Connection,
        *,
        kind: Kind,
        cmap: ColumnMap,
        batch_id: int,
        options: ImportOptions,
        report: ImportReport,
    ) -> None:
        self.conn, self.kind, self.cmap = conn, kind, cmap
        self.spec = TABLES[kind]
        self.batch_id, self.options, self.report = batch_id, options, report
        self.lang = options.lang
        self._problems: list[RowError] = []
        # keys written by this import so far (hashes only: ~40 bytes a key); a resumed import
        # starts it empty, so a repeat across the resume point is judged like a new import's
        self._seen = pl.DataFrame(schema=_SEEN_SCHEMA)

    # -- problems --------------------------------------------------------------------------
    def _problem(
        self,
        line: int,
        sheet: str | None,
        column: str | None,
        code: str,
        value: Any = None,
        severity: str = "error",
    ) -> RowError:
        text = None if value is None else str(value)
        return RowError(
            line=line,
            sheet=sheet,
            column=column,
            code=code,
            value=text,
            severity=severity,
            message=_messages.render(code, lang=self.lang, value=text, column=column),
        )

    def store_problems(self, problems: list[RowError]) -> None:
        if not problems:
            return
        df = pl.DataFrame(
            {
                "batch_id": [self.batch_id] * len(problems),
                "line": [p.line for p in problems],
                "sheet": [p.sheet for p in problems],
                "column": [p.column for p in problems],
                "code": [p.code for p in problems],
                "message": [p.message for p in problems],
                "raw": [p.value for p in problems],
                "severity": [p.severity for p in problems],
            },
            schema={
                "batch_id": pl.Int64,
                "line": pl.Int64,
                "sheet": pl.String,
                "column": pl.String,
                "code": pl.String,
                "message": pl.String,
                "raw": pl.String,
                "severity": pl.String,
            },
        )
        insert_frame(self.conn, table="import_errors", df=df)

    # -- the batch -------------------------------------------------------------------------
    def apply(self, raw: RawBatch, checked: Checked) -> list[RowError]:
        lines = pl.Series("_line", raw.lines, dtype=pl.Int64)
        problems = [
            self._problem(int(lines[r]), raw.sheet, col, code, value, sev)
            for r, col, code, value, sev in checked.problems.iter_rows()
        ]
        self.report.rejected += (
            checked.problems.filter(pl.col("severity") == "error").get_column("row").n_unique()
        )
        rows = checked.rows.with_columns(
            lines.gather(checked.rows.get_column("_row")).alias("_line")
        )
        rows, repeat_problems = self._sequence(rows, raw.sheet)
        problems.extend(repeat_problems)
        if self.spec.customer_refs:
            rows, ref_problems = self._resolve_customers(rows, raw.sheet)
            problems.extend(ref_problems)
        rows = rows.with_columns(self._round_expr(rows).alias("_round"))
        for (round_no,), part in rows.group_by(["_round"], maintain_order=True):
            del round_no
            problems.extend(self._upsert(part.drop("_round"), raw.sheet))
        return problems

    def _sequence(
        self, rows: pl.DataFrame, sheet: str | None
    ) -> tuple[pl.DataFrame, list[RowError]]:
        """Apply the file's own repeats of a key in file order, across batches.

        A row equal to the previous occurrence of its key is an exact duplicate (skipped). Of the
        distinct versions of a key, the last one wins with ``--on-duplicate update`` (earlier ones
        are skipped as superseded, and its outcome is judged against the database as it was
        before this import, so a re-import counts nothing); with ``skip`` or ``error`` the first
        one stays and later ones are skipped or rejected. Rows that survive carry ``_k`` (key
        hash), ``_c`` (content hash) and the ``_seen`` facts of the key's earlier batches.
        """
        keys = list(self.spec.key)
        data_cols = [c for c in rows.columns if not c.startswith("_")]
        rows = rows.with_columns(
            pl.struct(keys).hash().alias("_k"), pl.struct(data_cols).hash().alias("_c")
        )
        # only the keys of this batch: joining all keys seen so far cost 0.1 s a batch at 1M
        seen = self._seen.filter(pl.col("_k").is_in(rows.get_column("_k").implode()))
        rows = rows.join(seen, on="_k", how="left", maintain_order="left")
        rows = rows.with_columns(_previous_in_batch(rows))
        prev_c = pl.coalesce(pl.col("_in_c"), pl.col("_seen_c"))
        prev_line = pl.coalesce(pl.col("_in_line"), pl.col("_seen_line"))
        rows = rows.with_columns(prev_c.alias("_prev_c"), prev_line.alias("_prev_line")).drop(
            "_in_c", "_in_line"
        )
        dup = pl.col("_c").eq_missing(pl.col("_prev_c")) & pl.col("_prev_c").is_not_null()
        problems: list[RowError] = []
        dupes = rows.filter(dup)
        self.report.skip("duplicate_row", dupes.height)
        for line, prev in dupes.select("_line", "_prev_line").iter_rows():
            problems.append(
                self._problem(int(line), sheet, None, "duplicate_row", prev, severity="warning")
            )
        rows = rows.filter(~dup).drop("_prev_c", "_prev_line")
        if self.options.on_duplicate == "update":
            effective = pl.col("_line") == pl.col("_line").max().over("_k")
        else:
            effective = pl.col("_seen_c").is_null() & (
                pl.col("_line") == pl.col("_line").min().over("_k")
            )
        rows = rows.with_columns(effective.alias("_effective"))
        later = rows.filter(~pl.col("_effective"))
        for rec in later.iter_rows(named=True):
            shown = "/".join(str(rec[k]) for k in keys)
            if self.options.on_duplicate == "update":
                problems.append(
                    self._problem(
                        rec["_line"],
                        sheet,
                        self.cmap.source(keys[0]),
                        "superseded",
                        shown,
                        severity="warning",
                    )
                )
            elif self.options.on_duplicate == "skip":
                problems.append(
                    self._problem(
                        rec["_line"],
                        sheet,
                        self.cmap.source(keys[0]),
                        "duplicate_key",
                        shown,
                        severity="warning",
                    )
                )
            else:
                problems.append(
                    self._problem(
                        rec["_line"], sheet, self.cmap.source(keys[0]), "duplicate_key", shown
                    )
                )
        if self.options.on_duplicate == "update":
            self.report.skip("superseded", later.height)
        elif self.options.on_duplicate == "skip":
            self.report.skip("duplicate_key", later.height)
        else:
            self.report.rejected += later.height
        return rows.filter(pl.col("_effective")).drop("_effective"), problems

    def _remember(self, done: pl.DataFrame) -> None:
        """Record the outcome of each written key for the repeats in later batches."""
        if done.height == 0:
            return
        fresh = done.filter(pl.col("_seen_c").is_null()).select(
            "_k",
            pl.col("_c").alias("_seen_c"),
            pl.col("_line").alias("_seen_line"),
            pl.col("_outcome").alias("_seen_outcome"),
            pl.col("_pre").alias("_seen_pre"),
        )
        again = done.filter(pl.col("_seen_c").is_not_null()).select(
            "_k",
            pl.col("_c").alias("_seen_c"),
            pl.col("_line").alias("_seen_line"),
            pl.col("_outcome").alias("_seen_outcome"),
            pl.col("_seen_pre"),
        )
        seen = self._seen
        if again.height:
            seen = seen.filter(~pl.col("_k").is_in(again.get_column("_k").implode()))
        self._seen = pl.concat([seen, fresh, again], how="vertical_relaxed")

    def _count(self, outcome: str, n: int) -> None:
        if outcome == "inserted":
            self.report.inserted += n
        elif outcome == "updated":
            self.report.updated += n
        elif outcome == "unchanged":
            self.report.skip("unchanged", n)

    def _uncount(self, outcomes: pl.Series) -> None:
        """An earlier batch's version of a key was superseded: it counts as skipped instead."""
        for outcome, n in outcomes.value_counts().iter_rows():
            if outcome == "inserted":
                self.report.inserted -= n
            elif outcome == "updated":
                self.report.updated -= n
            elif outcome == "unchanged":
                self.report.skipped -= n
                self.report.skipped_detail["unchanged"] -= n
            else:
                continue
            self.report.skip("superseded", n)

    def _round_expr(self, rows: pl.DataFrame) -> pl.Expr:
        keys = list(self.spec.key)
        expr = pl.int_range(pl.len()).over(keys)
        if self.kind == "customers":
            for col in ("phone", "email"):
                if col in rows.columns:
                    occ = (
                        pl.when(pl.col(col).is_not_null())
                        .then(pl.int_range(pl.len()).over(col))
                        .otherwise(0)
                    )
                    expr = pl.max_horizontal(expr, occ)
        return expr

    # -- customers referenced by other kinds --------------------------------------------------
    def resolve_ids(self, ids: pl.Series) -> pl.DataFrame:
        """external customer id (or merged alias) -> customer pk."""
        keys = pl.DataFrame({"customer_id": ids.unique().drop_nulls()})
        direct = lookup(self.conn, table="customers", key_cols=["customer_id"], keys=keys)
        found = direct.select(pl.col("customer_id").cast(pl.String), pl.col("id").cast(pl.Int64))
        rest = keys.filter(~pl.col("customer_id").is_in(found.get_column("customer_id").implode()))
        if rest.height:
            aliases = lookup(
                self.conn,
                table="customer_aliases",
                key_cols=["alias"],
                keys=rest.rename({"customer_id": "alias"}),
                columns=["customer_pk"],
                id_col="alias",
            )
            if aliases.height:
                found = pl.concat(
                    [
                        found,
                        aliases.select(
                            pl.col("alias").cast(pl.String).alias("customer_id"),
                            pl.col("customer_pk").cast(pl.Int64).alias("id"),
                        ),
                    ]
                )
        return found.unique("customer_id")

    def _resolve_customers(
        self, rows: pl.DataFrame, sheet: str | None
    ) -> tuple[pl.DataFrame, list[RowError]]:
        refs = [c for c in self.spec.customer_refs if c in rows.columns]
        ids = pl.concat([rows.get_column(c) for c in refs]).drop_nulls().unique()
        known = self.resolve_ids(ids)
        unknown = ids.filter(~ids.is_in(known.get_column("customer_id").implode()))
        problems: list[RowError] = []
        if unknown.len() and self.options.strict:
            bad = pl.any_horizontal([pl.col(c).is_in(unknown.implode()) for c in refs])
            rejected = rows.filter(bad)
            rows = rows.filter(~bad)
            self.report.rejected += rejected.height
            for rec in rejected.iter_rows(named=True):
                ref = next(c for c in refs if rec[c] in set(unknown.to_list()))
                problems.append(
                    self._problem(
                        rec["_line"],
                        sheet,
                        self.cmap.source(ref) or ref,
                        "unknown_customer",
                        rec[ref],
                    )
                )
        elif unknown.len():
            now = _now()
            minimal = pl.DataFrame(
                {
                    "customer_id": unknown.sort(),
                    "created_from": [self.kind] * unknown.len(),
                    # never equal to a digest: the first real record of this customer updates it
                    "row_hash": ["-" * 32] * unknown.len(),
                    "batch_id": [self.batch_id] * unknown.len(),
                    "inserted_at": [now] * unknown.len(),
                    "updated_at": [now] * unknown.len(),
                }
            )
            insert_frame(self.conn, table="customers", df=minimal)
            self.report.customers_created += unknown.len()
            known = self.resolve_ids(ids)
        for ref in refs:
            pk = _PK[ref]
            mapping = known.rename({"customer_id": ref, "id": pk})
            rows = rows.join(mapping, on=ref, how="left", maintain_order="left")
        return rows, problems

    # -- upsert ----------------------------------------------------------------------------
    def _upsert(self, part: pl.DataFrame, sheet: str | None) -> list[RowError]:
        if self.kind == "customers":
            return self._upsert_customers(part, sheet)
        table, keys = self.kind, list(self.spec.key)
        data_cols = [c for c in part.columns if not c.startswith("_")]
        existing = lookup(self.conn, table=table, key_cols=keys, keys=part, columns=["row_hash"])
        return self._write(part, existing, table, keys, data_cols, sheet)

    def _write(
        self,
        part: pl.DataFrame,
        existing: pl.DataFrame,
        table: str,
        keys: list[str],
        data_cols: list[str],
        sheet: str | None,
        extra_update: dict[str, Any] | None = None,
    ) -> list[RowError]:
        """Insert new keys; for known keys, compare row digests and apply the duplicate policy.

        The digest covers the file's columns by name, so re-importing the same file finds every
        row unchanged without reading the stored values back. A key this import already wrote
        (in an earlier batch) is judged against the digest it had before the import began.
        """
        now = _now()
        problems: list[RowError] = []
        part = part.with_columns(digest(part.select(data_cols), with_names=True).alias("row_hash"))
        existing = existing.with_columns([pl.col(k).cast(pl.String) for k in keys])
        matched = part.join(
            existing.select(
                [
                    *keys,
                    pl.col("id").alias("_id"),
                    pl.col("row_hash").cast(pl.String).alias("_hash_db"),
                ]
            ),
            on=keys,
            how="left",
            maintain_order="left",
        )
        stored = pl.when(pl.col("_hash_db").is_not_null()).then(pl.col("_hash_db").hash())
        matched = matched.with_columns(
            pl.when(pl.col("_seen_c").is_null())
            .then(stored)
            .otherwise(pl.col("_seen_pre"))
            .alias("_pre"),
            pl.when(pl.col("_seen_c").is_null())
            .then(pl.col("_hash_db").is_null())
            .otherwise(pl.col("_seen_pre").is_null())
            .alias("_was_new"),
        )
        outcome = (
            pl.when(pl.col("_was_new"))
            .then(pl.lit("inserted"))
            .when(pl.col("row_hash").hash() == pl.col("_pre"))
            .then(pl.lit("unchanged"))
            .otherwise(pl.lit("changed"))
        )
        matched = matched.with_columns(outcome.alias("_outcome"))
        again = matched.filter(pl.col("_seen_c").is_not_null())
        if again.height:
            self._uncount(again.get_column("_seen_outcome"))
        new = matched.filter(pl.col("_id").is_null())
        insert_frame(
            self.conn,
            table=table,
            df=new.select([*data_cols, "row_hash"]),
            same={"batch_id": self.batch_id, "inserted_at": now, "updated_at": now},
        )
        old = matched.filter(pl.col("_id").is_not_null())
        self._count("inserted", matched.filter(pl.col("_outcome") == "inserted").height)
        self._count("unchanged", matched.filter(pl.col("_outcome") == "unchanged").height)
        changed = old.filter(pl.col("_outcome") == "changed")
        policy = self.options.on_duplicate
        if policy == "update":
            self._count("updated", changed.height)
        elif policy == "skip":
            self.report.skip("duplicate_key", changed.height)
        else:
            self.report.rejected += changed.height
            for rec in changed.iter_rows(named=True):
                problems.append(
                    self._problem(
                        rec["_line"],
                        sheet,
                        self.cmap.source(keys[0]),
                        "duplicate_key",
                        "/".join(str(rec[k]) for k in keys),
                    )
                )
        # the database is written wherever it differs from the row, whatever the count says
        write = old.filter(pl.col("row_hash").ne_missing(pl.col("_hash_db")))
        if policy != "update":
            write = write.filter(pl.col("_outcome") != "changed")
        if write.height:
            compare = [c for c in data_cols if c not in keys]
            if extra_update:
                write = write.with_columns([pl.lit(v).alias(k) for k, v in extra_update.items()])
                compare += list(extra_update)
            update_frame(
                self.conn,
                table=table,
                df=write.select([pl.col("_id").alias("id"), *compare, "row_hash"]).with_columns(
                    pl.lit(self.batch_id).alias("batch_id"), pl.lit(now).alias("updated_at")
                ),
            )
        kept = matched if policy == "update" else matched.filter(pl.col("_outcome") != "changed")
        self._remember(kept.with_columns(pl.col("_outcome").replace("changed", "updated")))
        return problems

    def _upsert_customers(self, part: pl.DataFrame, sheet: str | None) -> list[RowError]:
        data_cols = [c for c in part.columns if not c.startswith("_")]
        by_id = self.resolve_ids(part.get_column("customer_id"))
        direct_ids = set(
            lookup(
                self.conn,
                table="customers",
                key_cols=["customer_id"],
                keys=part.select("customer_id"),
            )
            .get_column("customer_id")
            .cast(pl.String)
            .to_list()
        )
        aliased = by_id.filter(~pl.col("customer_id").is_in(list(direct_ids)))
        fresh = part.filter(~pl.col("customer_id").is_in(by_id.get_column("customer_id").implode()))
        # a new id whose phone or email is already known is the same customer under another id
        targets = self._match_contacts(fresh)
        merges = (
            pl.concat(
                [
                    aliased.select(
                        pl.col("customer_id"),
                        pl.col("id").alias("_target"),
                        pl.lit("alias").alias("_matched_on"),
                    ),
                    targets,
                ]
            )
            if targets.height or aliased.height
            else None
        )
        plain = part
        problems: list[RowError] = []
        if merges is not None and merges.height:
            merging = part.join(merges, on="customer_id", how="inner", maintain_order="left")
            plain = part.filter(
                ~pl.col("customer_id").is_in(merges.get_column("customer_id").implode())
            )
            self._merge(merging, data_cols)
        existing = lookup(
            self.conn, table="customers", key_cols=["customer_id"], keys=plain, columns=["row_hash"]
        )
        problems += self._write(
            plain,
            existing,
            "customers",
            ["customer_id"],
            data_cols,
            sheet,
            extra_update={"created_from": None},
        )
        return problems

    def _match_contacts(self, fresh: pl.DataFrame) -> pl.DataFrame:
        empty = pl.DataFrame(
            schema={"customer_id": pl.String, "_target": pl.Int64, "_matched_on": pl.String}
        )
        found = [empty]
        remaining = fresh
        for col in ("phone", "email"):
            if col not in remaining.columns or remaining.height == 0:
                continue
            keys = remaining.filter(pl.col(col).is_not_null()).select(col)
            hits = lookup(self.conn, table="customers", key_cols=[col], keys=keys)
            if hits.height == 0:
                continue
            hits = (
                hits.with_columns(pl.col(col).cast(pl.String))
                .group_by(col)
                .agg(pl.col("id").min().cast(pl.Int64).alias("_target"))
            )
            matched = remaining.join(hits, on=col, how="inner").select(
                "customer_id", "_target", pl.lit(col).alias("_matched_on")
            )
            found.append(matched)
            remaining = remaining.filter(
                ~pl.col("customer_id").is_in(matched.get_column("customer_id").implode())
            )
        return pl.concat(found)

    def _merge(self, merging: pl.DataFrame, data_cols: list[str]) -> None:
        """Fill the surviving customer's blanks from the duplicate; remember the duplicate's id."""
        fill = [c for c in data_cols if c != "customer_id"]
        stored = lookup(
            self.conn,
            table="customers",
            key_cols=["id"],
            keys=merging.select(pl.col("_target").alias("id")),
            columns=fill,
        )
        stored = to_db(self.conn, stored.with_columns(pl.col("id").cast(pl.Int64)))
        mine = to_db(self.conn, merging.select([pl.col("_target").alias("id"), *fill]))
        joined = mine.join(stored, on="id", how="left", suffix="_db")
        fills = (
            pl.any_horizontal([pl.col(f"{c}_db").is_null() & pl.col(c).is_not_null() for c in fill])
            if fill
            else pl.lit(False)
        )
        filling = merging.with_columns(joined.select(fills.alias("_fills")).to_series())
        new_alias = filling.filter(pl.col("_matched_on") != "alias")
        now = _now()
        if new_alias.height:
            insert_frame(
                self.conn,
                table="customer_aliases",
                df=new_alias.select(
                    pl.col("customer_id").alias("alias"),
                    pl.col("_target").alias("customer_pk"),
                    pl.col("_matched_on").alias("matched_on"),
                    pl.lit(self.batch_id).alias("batch_id"),
                    pl.lit(now).alias("created_at"),
                ),
            )
            insert_frame(
                self.conn,
                table="customer_merges",
                df=new_alias.select(
                    pl.lit(self.batch_id).alias("batch_id"),
                    pl.col("_target").alias("kept_pk"),
                    pl.col("customer_id").alias("merged_customer_id"),
                    pl.col("_matched_on").alias("matched_on"),
                    pl.lit(now).alias("created_at"),
                ),
            )
            self.report.merged += new_alias.height
            for rec in new_alias.head(200).iter_rows(named=True):
                if len(self.report.merges) < 1000:
                    self.report.merges.append(
                        {
                            "line": rec["_line"],
                            "customer_id": rec["customer_id"],
                            "kept_pk": rec["_target"],
                            "matched_on": rec["_matched_on"],
                        }
                    )
        if fill:
            update_frame(
                self.conn,
                table="customers",
                fill_only=fill,
                df=filling.filter(pl.col("_fills"))
                .select([pl.col("_target").alias("id"), *fill])
                .unique("id", keep="first"),
            )
        changed = filling.filter(pl.col("_fills") | (pl.col("_matched_on") != "alias")).height
        self.report.updated += changed
        self.report.skip("unchanged", filling.height - changed)


__all__ = ["BatchWriter"]
