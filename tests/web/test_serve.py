"""`tierwise serve` as a user starts it: one process, or several workers on one port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from webenv import WebEnv


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_its_port(web_env: WebEnv, workers: int, tmp_path: Path) -> None:
    port = _port()
    cli = Path(sys.executable).with_name("tierwise")
    env = os.environ | {"TIERWISE_MODE": "dev"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(cli), "serve", "--data-dir", str(web_env.settings.data_dir), "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        body = ""
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert 'name="username"' in body, (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_refuses_a_data_directory_without_a_database(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("tierwise")
    done = subprocess.run(
        [str(cli), "serve", "--data-dir", str(tmp_path / "nothing-here")],
        env=os.environ | {"TIERWISE_MODE": "dev"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "tierwise init" in done.stderr


@pytest.mark.parametrize("threads", [1, 3])
def test_requests_run_on_the_configured_number_of_threads(web_env: WebEnv, threads: int) -> None:
    from anyio import to_thread
    from fastapi.testclient import TestClient

    from tierwise.web import create_app

    settings = web_env.settings.model_copy(update={"web_threads": threads})
    with TestClient(create_app(settings, store=web_env.store)) as client:
        limiter = client.portal.call(to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == threads
        # pages are still served, one at a time at the narrowest
        assert client.get("/login").status_code == 200
