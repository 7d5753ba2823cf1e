"""A local HTTP receiver for webhook tests: answers each POST with the next scripted answer
(else the ``failures`` 500s, else 200 ``{"ok": true}``) and records every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Receiver:
    """``script``: (status, answer, delay) answered in turn; an answer's ``_headers`` are sent
    as headers (e.g. Retry-After). ``seen``: every request's path, query, target (path and
    query as sent), headers, raw body and the status it got."""

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures
        self.script: list[tuple[int, dict[str, Any], float]] = []
        self.seen: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urlsplit(self.path)
                status, answer, delay = receiver._next()
                receiver.seen.append({
                    "path": parts.path, "query": parse_qs(parts.query), "target": self.path,
                    "headers": dict(self.headers), "body": raw, "status": status,
                })  # fmt: skip
                time.sleep(delay)
                extra = answer.pop("_headers", {})
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _next(self) -> tuple[int, dict[str, Any], float]:
        if self.script:
            status, answer, delay = self.script.pop(0)
            return status, dict(answer), delay
        if self.failures > 0:
            self.failures -= 1
            return 500, {"error": "down"}, 0.0
        return 200, {"ok": True}, 0.0

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies of the requests that were answered with success."""
        return [json.loads(s["body"]) for s in self.seen if 200 <= s["status"] < 300]

    @property
    def paths(self) -> list[str]:
        return [str(s["target"]) for s in self.seen]

    @property
    def requests(self) -> list[tuple[dict[str, str], bytes]]:
        return [(s["headers"], s["body"]) for s in self.seen]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@contextmanager
def receiving(*, failures: int = 0) -> Iterator[Receiver]:
    r = Receiver(failures=failures)
    try:
        yield r
    finally:
        r.close()
