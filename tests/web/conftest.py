"""Fixtures of the web tests; the store they use is described in `webenv`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webenv import PASSWORD, Client, WebEnv, build, sign_in

from tierwise.web import create_app


@pytest.fixture(scope="session")
def web_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    env = build(tmp_path_factory.mktemp("web"))
    yield env
    env.store.dispose()


@pytest.fixture(scope="session")
def app(web_env: WebEnv) -> Iterator[object]:
    application = create_app(web_env.settings, store=web_env.store)
    yield application


@pytest.fixture()
def login(app: object) -> Iterator[object]:
    clients: list[Client] = []

    def make(username: str, password: str = PASSWORD) -> Client:
        c = sign_in(app, username, password)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture(autouse=True)
def _forget_sign_in_attempts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts unthrottled: failed sign-ins of earlier tests (same client address,
    same shared store) must not lock later tests out."""
    yield
    if "web_env" in request.fixturenames:
        import sqlalchemy as sa

        from tierwise.store.tables import login_attempts

        env = request.getfixturevalue("web_env")
        with env.store.begin() as conn:
            conn.execute(sa.delete(login_attempts))
