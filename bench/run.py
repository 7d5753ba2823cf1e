"""Run Tierwise's benchmarks: every ``bench/bench_*.py`` module, or one with ``--only NAME``.

Each module exposes ``run(args) -> dict``; the dict holds ``"rows"`` (a list of flat dicts, one
per measurement, shown as a table) and whatever else the module wants kept. Results are printed
and written as JSON to ``bench/out/<name>-<timestamp>.json`` (and ``<name>-latest.json``).

    .venv/bin/python bench/run.py                      # everything, full size
    .venv/bin/python bench/run.py --only import --quick
    .venv/bin/python bench/run.py --only import --rows 200000 --db sqlite
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
QUICK_ROWS = 20_000


def discover() -> dict[str, ModuleType]:
    """``bench_<name>.py`` files of this folder -> their modules, by name."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    found: dict[str, ModuleType] = {}
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        module = importlib.import_module(path.stem)
        if callable(getattr(module, "run", None)):
            found[name] = module
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="input rows (default 1,000,000)")
    p.add_argument("--only", metavar="NAME", help="run one benchmark (e.g. import)")
    p.add_argument(
        "--quick", action="store_true", help=f"small sizes ({QUICK_ROWS:,} rows): a smoke test"
    )
    p.add_argument(
        "--db",
        choices=["all", "sqlite", "postgres"],
        default="all",
        help="databases for store benchmarks (default all)",
    )
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (an admin database) where throwaway databases are created",
    )
    p.add_argument("--out", type=Path, default=OUT_DIR, help="where results and caches go")
    p.add_argument("--no-reference", action="store_true", help="skip the reference points")
    args = p.parse_args(argv)
    if args.quick:
        args.rows = min(args.rows, QUICK_ROWS)
    return args


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of flat dicts (union of their keys, in first-seen order)."""
    if not rows:
        return "(no rows)"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append(
            "  ".join(
                v.rjust(w) if v[:1].isdigit() or v[:1] == "-" else v.ljust(w)
                for v, w in zip(row, widths, strict=True)
            )
        )
    return "\n".join(out)


def report(name: str, result: dict[str, Any], out: Path, stamp: str) -> Path:
    """Print a benchmark's table and notes; write its JSON as ``<name>-<stamp>.json`` and
    ``<name>-latest.json`` in ``out``. Every module's ``main`` and this runner end with it."""
    print(table(result.get("rows", [])))
    for note in result.get("notes", []):
        print(f"  - {note}")
    result = {"benchmark": name, "started": stamp, **result}
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (out / f"{name}-latest.json").write_text(text, encoding="utf-8")
    print(f"  results: {path}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    modules = discover()
    if args.only:
        if args.only not in modules:
            print(f"no benchmark {args.only!r}; have: {', '.join(modules)}", file=sys.stderr)
            return 2
        modules = {args.only: modules[args.only]}
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    failed = False
    for name, module in modules.items():
        print(f"== {name} ({args.rows:,} rows{', quick' if args.quick else ''})", flush=True)
        started = time.monotonic()
        result = module.run(args)
        result = {
            "benchmark": name,
            "started": stamp,
            "seconds": round(time.monotonic() - started, 2),
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": _cpus(),
            },
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            **result,
        }
        report(name, result, args.out, stamp)
        failed = failed or not result.get("ok", True)
    return 1 if failed else 0


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    raise SystemExit(main())
