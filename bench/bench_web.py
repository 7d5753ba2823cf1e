"""Web load benchmark (issue 4): p95 latency of the customer list, the customer 360 page and the
dashboard at 20 concurrent users on loopback, bounded in time, 0 errors expected.

The store is the demo data set (default 1,000,000 customers) imported through the real import
path and classified, built once and cached in ``bench/out/data/web-v1-<N>/``. The server is
``tierwise serve`` in its own process (one uvicorn worker, as shipped); the load comes from
threads with keep-alive connections in this process.

    .venv/bin/python bench/bench_web.py --customers 1000000 --seconds 30
    .venv/bin/python bench/run.py --only web --quick
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
DATA_VERSION = "web-v1"
SEED = 42
DEFAULT_CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 3_000
USERS = 20
GOALS_MS = {"list": 150.0, "customer_360": 150.0, "dashboard": 300.0}


def _python() -> str:
    return sys.executable


def build(data_dir: Path, customers: int) -> dict[str, Any]:
    """Generate, import and classify the demo data set into ``data_dir`` (once)."""
    ready = data_dir / "ready.json"
    if ready.exists():
        return json.loads(ready.read_text())
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    from tierwise import pipeline
    from tierwise.classify import classify_store
    from tierwise.classify._service import last_order_day
    from tierwise.demo import generate
    from tierwise.ingest import ImportOptions
    from tierwise.settings import Settings

    started = time.monotonic()
    settings = Settings(data_dir=data_dir / "data", mode="dev")
    pipeline.init(settings)
    files = data_dir / "files"
    generate(customers=customers, out=files, seed=SEED, fmt="auto")
    t_import = time.monotonic()
    pipeline.import_paths([files], settings=settings, options=ImportOptions(batch_size=50_000))
    t_classify = time.monotonic()
    store = pipeline.open_store(settings)
    classified = classify_store(settings, store, as_of=last_order_day(store), actor="bench")
    store.dispose()
    info = {
        "customers": customers,
        "generate_s": round(t_import - started, 1),
        "import_s": round(t_classify - t_import, 1),
        "classify_s": round(time.monotonic() - t_classify, 1),
        # where a first classification against the store goes (sync, run stages, the write)
        "classify_timings": classified["timings"],
    }
    ready.write_text(json.dumps(info))
    return info


def _token(data_dir: Path) -> tuple[str, list[str], list[tuple[str, str]]]:
    """An admin API token, a sample of customer ids, and (tier, region) filter pairs."""
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    import sqlalchemy as sa

    from tierwise import pipeline
    from tierwise.access import create_api_token, load_principal
    from tierwise.settings import Settings

    settings = Settings(data_dir=data_dir / "data", mode="dev")
    store = pipeline.open_store(settings)
    with store.begin() as conn:
        admin = conn.scalar(sa.text("SELECT id FROM users WHERE role = 'admin' ORDER BY id"))
        token = create_api_token(conn, principal=load_principal(conn, user_id=admin), name="bench")
        ids = [r[0] for r in conn.execute(sa.text(
            "SELECT customer_id FROM customers ORDER BY id LIMIT 2000 OFFSET 100"))]  # fmt: skip
        regions = [r[0] for r in conn.execute(sa.text(
            "SELECT province FROM customers WHERE province IS NOT NULL GROUP BY province "
            "ORDER BY count(*) DESC LIMIT 8"))]  # fmt: skip
    store.dispose()
    pairs = [(tier, region) for tier in ("A", "B", "C") for region in regions]
    return str(token["token"]), ids, pairs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"TIERWISE_DATA_DIR": str(data_dir / "data"), "TIERWISE_MODE": "dev"}
    log = data_dir / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                str(Path(_python()).with_name("tierwise")),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"tierwise serve did not start: {log.read_text()[-2000:]}")


def _load(port: int, token: str, paths: list[str], seconds: float, users: int) -> dict[str, Any]:
    """``users`` threads each requesting random ``paths`` for ``seconds``; latencies in ms."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
        mine: list[float] = []
        while time.monotonic() < stop:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    errors.append(f"{path}: {exc!r}")
            mine.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                with lock:
                    errors.append(f"{path}: HTTP {status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": round(n / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies), 1) if n else None,
        "p95_ms": round(latencies[max(0, int(n * 0.95) - 1)], 1) if n else None,
        "max_ms": round(latencies[-1], 1) if n else None,
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(getattr(args, "out", BENCH_DIR / "out"))
    quick = bool(getattr(args, "quick", False))
    customers = int(
        getattr(args, "customers", None) or (QUICK_CUSTOMERS if quick else DEFAULT_CUSTOMERS)
    )
    seconds = float(getattr(args, "seconds", None) or (5 if quick else 30))
    users = int(getattr(args, "users", None) or USERS)
    data_dir = out / "data" / f"{DATA_VERSION}-seed{SEED}-{customers}"
    info = build(data_dir, customers)
    token, ids, pairs = _token(data_dir)
    port = _free_port()
    workers = int(getattr(args, "workers", None) or 1)
    server = _serve(data_dir, port, workers)
    rows = []
    try:
        scenarios = {
            "list": [
                "/api/v1/customers?"
                + urlencode({"label": f"value_tier:{tier}", "province": region})
                for tier, region in pairs
            ],
            "customer_360": [f"/api/v1/customers/{cid}" for cid in ids],
            "dashboard": ["/api/v1/dashboard"],
        }
        # one request each first: the dashboard is computed once per snapshot, then cached
        warm = _load(port, token, [p for ps in scenarios.values() for p in ps[:1]], 0.1, 1)
        for name, paths in scenarios.items():
            result = _load(port, token, paths, seconds, users)
            goal = GOALS_MS[name]
            rows.append({"scenario": name, "users": users, "seconds": seconds, **result,
                         "goal_p95_ms": goal,
                         "p95_vs_goal": round(result["p95_ms"] / goal, 2) if result["p95_ms"] else None})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = all(r["errors"] == 0 for r in rows)
    notes = [
        f"store: {customers:,} demo customers (seed {SEED}); built in "
        f"{info['generate_s'] + info['import_s'] + info['classify_s']:.0f} s when first made "
        f"(generate {info['generate_s']} s, import {info['import_s']} s, classify {info['classify_s']} s)",
        *(
            [f"the store's first classification, seconds by stage: {info['classify_timings']}"]
            if "classify_timings" in info
            else []
        ),
        f"first (uncached) requests: {warm['max_ms']} ms at most",
        f"server: tierwise serve --workers {workers}; the load threads share the 2 cores with it",
    ]
    for r in rows:
        for e in r.pop("first_errors"):
            notes.append(f"error in {r['scenario']}: {e}")
    return {"rows": rows, "notes": notes, "ok": ok}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--customers", type=int, help=f"demo customers (default {DEFAULT_CUSTOMERS:,})")
    p.add_argument("--seconds", type=float, help="load per scenario (default 30; quick 5)")
    p.add_argument("--users", type=int, default=USERS, help="concurrent users (default 20)")
    p.add_argument("--workers", type=int, default=1, help="tierwise serve --workers (default 1)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_CUSTOMERS:,} customers, 5 s")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="results and caches")
    args = p.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))
    from run import report

    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = run(args)
    report("web", result, args.out, stamp)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
