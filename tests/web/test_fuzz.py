"""Schemathesis against the OpenAPI document: generated requests never make a server error.

Every operation gets generated parameters and bodies (valid and invalid) with an admin token;
any 5xx fails. The two operations that start long computations are left out (their inputs are
covered by the access matrix).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from webenv import WebEnv

from tierwise.access import create_api_token, load_principal
from tierwise.web import create_app

SLOW = {("POST", "/api/v1/classifications"), ("POST", "/api/v1/schemes/preview")}


@pytest.fixture(scope="module")
def fuzz_app(web_env: WebEnv) -> Any:
    return create_app(web_env.settings, store=web_env.store)


@pytest.fixture(scope="module")
def token(web_env: WebEnv) -> str:
    with web_env.store.begin() as conn:
        admin = load_principal(conn, user_id=web_env.user_ids["admin"])
        return str(create_api_token(conn, principal=admin, name="fuzz")["token"])


@pytest.mark.slow
def test_no_server_errors(fuzz_app: Any, token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)
    failures: list[str] = []
    checked = 0
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SLOW:
            continue
        checked += 1

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            calls[0] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:200]}")

        check()
    assert checked >= 30 and calls[0] >= 4 * checked
    assert not failures, "\n".join(sorted(set(failures))[:20])
