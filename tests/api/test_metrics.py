"""`GET /metrics` on every frontend: the scrape parsed, its counts checked against the
requests sent (as differences: one process's metrics are shared by all its apps)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.clients import ApiClient, request
from tests.api.issuer import Issuer, SigningKey
from tests.api.test_request_ids import closed_port
from tests.helpers import new_user_id

TOKEN = "metrics-" + "t" * 32
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: ApiClient, **headers: str) -> Samples:
    answer = request(client, "GET", "/metrics", headers=headers)
    assert answer.status == 200, answer.body
    assert answer.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.body.decode()) for sample in family.samples}


def change(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def duration_count(route: str, status: int, method: str = "GET") -> dict[str, str]:
    return {"method": method, "route": route, "status": str(status)}


def test_requests_are_counted_by_route_template_and_status(client, user):
    before = scrape(client)
    for _ in range(3):
        assert request(client, "GET", user.stats, headers=user.headers).status == 200
    request(client, "GET", f"{user.tasks}/6f1c1f55-0000-4000-8000-000000000001", headers=user.headers)
    request(client, "GET", "/no/such/path")
    request(client, "BREW", "/health")
    after = scrape(client)
    count = "http_server_request_duration_seconds_count"
    assert change(before, after, count, **duration_count("/api/{user_id}/stats", 200)) == 3
    assert change(before, after, count, **duration_count("/api/{user_id}/tasks/{task_id}", 404)) == 1
    assert change(before, after, count, **duration_count("", 404)) == 1
    assert change(before, after, count, **duration_count("/health", 405, "_OTHER")) == 1
    assert change(before, after, count, **duration_count("/metrics", 200)) == 1  # the first scrape
    assert change(before, after, "todo_api_token_cache_lookups_total", result="hit") >= 3
    labels = {labels for name, labels in after if name == count}
    assert not any(user.id in value for pairs in labels for _, value in pairs), "no user id in a label"


def test_a_histogram_has_opentelemetry_buckets(client, user):
    request(client, "GET", "/health")
    buckets = [dict(labels)["le"] for name, labels in scrape(client)
               if name == "http_server_request_duration_seconds_bucket" and dict(labels)["route"] == "/health"]
    assert buckets[:3] == ["0.005", "0.01", "0.025"] and buckets[-2:] == ["10.0", "+Inf"]


def test_database_errors_are_counted_by_kind(client, user, frontend_factory):
    down = frontend_factory(client.name, db_pool_timeout_seconds=0.3,
                            database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=1")
    before = scrape(down)
    assert request(down, "GET", user.stats, headers=user.headers).status == 503
    after = scrape(down)
    # refused: known down at once, never a wait for the pool (storage.availability)
    assert change(before, after, "todo_api_db_errors_total", kind="unreachable") == 1
    assert change(before, after, "todo_api_db_errors_total", kind="pool_timeout") == 0


def test_jwks_fetches_and_failures_are_counted(client, frontend_factory):
    issuer = Issuer()
    try:
        api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=0)
        key = issuer.publish(SigningKey("kid-metrics", "ed25519"))
        user = new_user_id()
        before = scrape(api)
        assert request(api, "GET", f"/api/{user}/stats", headers={
            "Authorization": f"Bearer {issuer.sign(key, user)}"}).status == 200
        issuer.down = True
        stranger = issuer.sign(SigningKey("kid-unknown", "ed25519"), user)
        assert request(api, "GET", f"/api/{user}/stats", headers={"Authorization": f"Bearer {stranger}"}).status == 503
        after = scrape(api)
        assert change(before, after, "todo_api_jwks_fetches_total") == 2
        assert change(before, after, "todo_api_jwks_fetch_failures_total") == 1
    finally:
        issuer.close()


def test_a_metrics_token_guards_the_scrape(client, frontend_factory):
    guarded = frontend_factory(client.name, metrics_token=TOKEN)
    refused = request(guarded, "GET", "/metrics", headers={"Authorization": "Bearer wrong"})
    assert (refused.status, refused.header("www-authenticate")) == (401, 'Bearer realm="metrics"')
    assert "detail" in refused.json()
    assert request(guarded, "GET", "/metrics").status == 401
    scrape(guarded, Authorization=f"Bearer {TOKEN}")


def test_metrics_off_removes_the_route(client, frontend_factory):
    off = frontend_factory(client.name, metrics_enabled=False)
    assert request(off, "GET", "/metrics").status == 404
