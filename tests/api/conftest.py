"""Every test in tests/api runs once per frontend and way of mounting it, through the
`client` fixture: the app `create_app` makes, and the API embedded by `init_app` at a
prefix in a host app that a middleware mounts at a prefix of its own (tests.api.hosts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.clients import ApiClient, make_client
from tests.helpers import auth, new_user_id
from todo_api.config.settings import Settings
from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE

FRONTENDS = list(FRONTEND_TABLE)
CLIENTS = FRONTENDS + [f"{name}-embedded" for name in FRONTENDS]


@pytest.fixture(scope="session", params=CLIENTS)
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[ApiClient]:
    made = make_client(request.param, settings)
    yield made
    made.close()


@pytest.fixture
def user() -> User:
    return User(new_user_id())


class User:
    """A fresh user with a valid token, and paths under its id."""

    def __init__(self, user_id: str) -> None:
        self.id = user_id
        self.headers = auth(user_id)

    @property
    def tasks(self) -> str:
        return f"/api/{self.id}/tasks"

    def task(self, task_id: str, suffix: str = "") -> str:
        return f"/api/{self.id}/tasks/{task_id}{suffix}"

    @property
    def stats(self) -> str:
        return f"/api/{self.id}/stats"


@pytest.fixture
def frontend_factory(settings: Settings) -> Iterator[Callable[..., ApiClient]]:
    """Clients built with settings of the test's own (closed when the test ends)."""
    made: list[Any] = []

    def build(name: str, **changes: Any) -> ApiClient:
        import attrs

        made.append(make_client(name, attrs.evolve(settings, **changes)))
        return made[-1]  # type: ignore[no-any-return]

    yield build
    for each in made:
        each.close()
