"""The API inside a team's own Flask or Quart app (`init_app`), written once for both.

The whole behaviour suite also runs embedded (the `*-embedded` clients); these tests
are about the host: its routes, blueprint, hooks, error handlers and `url_for` keep
working beside the API, the API's paths stay the API's, and the pool follows the app's
lifecycle.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from tests.api import hosts
from tests.api.clients import api_path, in_process, request
from tests.api.conftest import FRONTENDS, User
from tests.helpers import new_user_id
from todo_api.config.settings import Settings
from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE

TASK = {"title": "t", "priority": "low", "category": "work"}


@pytest.fixture(params=FRONTENDS)
def frontend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def clients() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for client in made:
        client.close()


def embedded(frontend: str, settings: Settings, clients: list[Any], prefix: str = hosts.API_PREFIX) -> tuple[Any, Any]:
    """The host app with the API at `prefix`, behind the middleware at OUTER_PREFIX."""
    app = hosts.host_app(frontend)
    FRONTEND_TABLE[frontend].init_app(app, prefix, settings)
    client = in_process(frontend, hosts.mounted(frontend, app), hosts.OUTER_PREFIX, app)
    clients.append(client)
    return app, client


def standalone(frontend: str, settings: Settings, clients: list[Any]) -> tuple[Any, Any]:
    """The app `create_app` makes, with a client of its own."""
    app = FRONTEND_TABLE[frontend].create_app(settings)
    client = in_process(frontend, app, "", app)
    clients.append(client)
    return app, client


def test_the_hosts_routes_blueprint_hooks_and_url_for_keep_working(frontend, settings, clients):
    app, client = embedded(frontend, settings, clients)
    hello = request(client, "GET", "/hello")
    assert (hello.status, hello.json()) == (200, {"hello": "/outer/hello", "tasks": "/outer/todo/api/ann/tasks"})
    about = request(client, "GET", "/pages/about")
    assert (about.status, about.json()) == (200, {"page": "about", "self": "/outer/pages/about"})
    missing = request(client, "GET", "/nope")
    assert (missing.status, missing.body) == (404, b"host 404")  # the host's own error handler
    assert request(client, "GET", "/todo/health").status == 200
    assert app.config["seen_endpoints"] == ["hello", "pages.about", None, "todo_api.api"]


def test_under_the_prefix_every_path_is_the_apis(frontend, settings, clients):
    _, client = embedded(frontend, settings, clients)
    for path in ("/todo/nope", "/todo/api", "/todo//health", "/todo/api/ann/tasks/x/y"):
        result = request(client, "GET", path)
        assert (result.status, result.json()) == (404, {"detail": "Not Found"}), path
    refused = request(client, "PUT", "/todo/health")
    assert (refused.status, refused.header("allow")) == (405, "GET, HEAD, OPTIONS")
    assert refused.json() == {"detail": "Method Not Allowed"}
    assert request(client, "GET", "/todo").json()["message"] == "Todo API"


def test_location_carries_the_mount_point_and_the_prefix(frontend, settings, clients):
    _, client = embedded(frontend, settings, clients)
    user = User(new_user_id())
    created = request(client, "POST", f"/todo{user.tasks}", headers=user.headers, json=TASK)
    assert created.status == 201
    assert created.header("location") == f"/outer/todo{user.tasks}/{created.json()['id']}"
    fetched = request(client, "GET", api_path(client, created.header("location")), headers=user.headers)
    assert fetched.json() == created.json()


def test_at_the_root_the_api_claims_only_its_own_paths(frontend, settings, clients):
    _, client = embedded(frontend, settings, clients, prefix="")
    assert request(client, "GET", "/hello").status == 200
    assert request(client, "GET", "/nope").body == b"host 404"
    assert request(client, "GET", "/health").json()["status"] == "healthy"
    assert request(client, "GET", "/").json()["message"] == "Todo API"
    assert request(client, "GET", "/api/ann/nothing-here").json() == {"detail": "Not Found"}
    user = User(new_user_id())
    created = request(client, "POST", user.tasks, headers=user.headers, json=TASK)
    assert created.header("location") == f"/outer{user.tasks}/{created.json()['id']}"


def test_a_standalone_app_behind_a_middleware_answers_locations_under_it(frontend, settings, clients):
    app = FRONTEND_TABLE[frontend].create_app(settings)
    client = in_process(frontend, hosts.mounted(frontend, app), hosts.OUTER_PREFIX, app)
    clients.append(client)
    user = User(new_user_id())
    created = request(client, "POST", user.tasks, headers=user.headers, json=TASK)
    assert created.header("location") == f"/outer{user.tasks}/{created.json()['id']}"


def test_a_route_added_to_the_standalone_app_is_served(frontend, settings, clients):
    app, client = standalone(frontend, settings, clients)
    hosts.add_hello_route(frontend, app)
    hello = request(client, "GET", "/hello")
    assert (hello.status, hello.json()["tasks"]) == (200, "/api/ann/tasks")
    assert request(client, "GET", "/health").status == 200
    assert request(client, "GET", "/nope").json() == {"detail": "Not Found"}


def test_a_request_hook_added_to_the_standalone_app_runs(frontend, settings, clients):
    """The standalone app answers without the framework's request handling only while the
    API is all it serves (#21): a hook added to it brings that handling back."""
    app, client = standalone(frontend, settings, clients)
    assert request(client, "GET", "/health").header("x-host-hook") is None

    def mark(response: Any) -> Any:
        response.headers["X-Host-Hook"] = "ran"
        return response

    app.after_request(mark)
    user = User(new_user_id())
    listed = request(client, "GET", user.tasks, headers=user.headers)
    assert (listed.status, listed.json(), listed.header("x-host-hook")) == (200, [], "ran")


def test_a_request_signal_receiver_hears_the_standalone_apps_requests(frontend, settings, clients):
    """An error tracker or tracer listening to the framework's signals (Sentry's and
    OpenTelemetry's integrations do) brings the framework's request handling back too."""
    framework = importlib.import_module(frontend)
    app, client = standalone(frontend, settings, clients)
    heard: list[Any] = []

    def receiver(sender: Any, **extra: Any) -> None:
        heard.append(sender)

    framework.request_started.connect(receiver)
    try:
        assert request(client, "GET", "/health").status == 200
    finally:
        framework.request_started.disconnect(receiver)
    assert heard == [app]


def unreachable(settings: Settings) -> Settings:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    url = f"postgresql://postgres@127.0.0.1:{port}/none?connect_timeout=1"
    return attrs.evolve(settings, database_url=url, migrate_on_start=True, db_pool_timeout_seconds=0.5)


def test_nothing_is_opened_by_init_app(frontend, settings):
    """Even with migrations to run and no database: the host app imports, the pool waits."""
    app = hosts.host_app(frontend)
    mounted = FRONTEND_TABLE[frontend].init_app(app, "/todo", unreachable(settings))
    assert mounted.open_database is None


def test_the_pool_opens_before_serving_and_closes_after(frontend, settings):
    app = hosts.host_app(frontend)
    mounted = FRONTEND_TABLE[frontend].init_app(app, "/todo", settings)
    client = in_process(frontend, app, "", app)
    try:
        assert request(client, "GET", "/todo/ready").status == 200
        assert mounted.open_database is not None
    finally:
        client.close()
    assert mounted.open_database is None


def test_with_the_database_down_before_migrating_the_api_answers_503_not_500(frontend, settings, clients):
    app = hosts.host_app(frontend)
    FRONTEND_TABLE[frontend].init_app(app, "/todo", unreachable(settings))
    client = in_process(frontend, app, "/todo", app)  # serving starts, migrations cannot run
    clients.append(client)
    assert request(client, "GET", "/health").status == 200
    ready = request(client, "GET", "/ready")
    assert (ready.status, ready.header("retry-after")) == (503, "5")


def test_pending_migrations_run_before_the_first_answer_that_needs_them(frontend, settings, clients,
                                                                         create_database):
    fresh = attrs.evolve(settings, database_url=create_database(migrated=False), migrate_on_start=True)
    app = hosts.host_app(frontend)
    FRONTEND_TABLE[frontend].init_app(app, "/todo", fresh)
    client = in_process(frontend, app, "/todo", app)
    clients.append(client)
    user = User(new_user_id())
    assert request(client, "POST", user.tasks, headers=user.headers, json=TASK).status == 201
    assert request(client, "GET", user.stats, headers=user.headers).json()["total"] == 1


def framework_test_client_exchange(frontend: str, app: Any, user: User) -> list[tuple[int, Any]]:
    """A create, a read and an update through the framework's own test client
    (`app.test_client()`, how Flask and Quart teams test their apps)."""
    task = {"title": "from the test client", "priority": "high", "category": "home"}
    path = f"{hosts.API_PREFIX}/api/{user.id}/tasks"
    if frontend == "flask":
        client = app.test_client()
        created = client.post(path, json=task, headers=user.headers)
        task_path = f"{path}/{created.get_json()['id']}"
        read = client.get(task_path, headers=user.headers)
        updated = client.put(task_path, json={"title": "renamed"}, headers=user.headers)
        return [(each.status_code, each.get_json()) for each in (created, read, updated)]

    async def exchange() -> list[tuple[int, Any]]:
        async with app.test_app() as serving:  # before_serving: the pool opens
            client = serving.test_client()
            created = await client.post(path, json=task, headers=user.headers)
            task_path = f"{path}/{(await created.get_json())['id']}"
            read = await client.get(task_path, headers=user.headers)
            updated = await client.put(task_path, json={"title": "renamed"}, headers=user.headers)
            return [(each.status_code, await each.get_json()) for each in (created, read, updated)]

    import asyncio

    return asyncio.run(exchange())


def test_the_frameworks_own_test_client_sends_bodies_the_api_reads(frontend, settings):
    """Quart's test client sends a body without Content-Length: it once arrived empty (422)."""
    app = hosts.host_app(frontend)
    mounted = FRONTEND_TABLE[frontend].init_app(app, hosts.API_PREFIX, settings)
    user = User(new_user_id())
    try:
        (created, made), (read, seen), (updated, renamed) = framework_test_client_exchange(frontend, app, user)
    finally:
        if frontend == "flask":
            mounted.close()
    assert (created, read, updated) == (201, 200, 200), (made, seen, renamed)
    assert made["title"] == seen["title"] == "from the test client" and made["priority"] == "high"
    assert renamed["title"] == "renamed" and renamed["id"] == made["id"]
