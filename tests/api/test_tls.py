"""TLS to PostgreSQL as Neon requires it: `sslmode=require`, and `verify-full` against a CA.

The server accepts TLS connections only (its pg_hba.conf rejects plain ones), so an answer
that needed the database proves the connection was encrypted.
"""

from tests.api.clients import create_task, request


def test_sslmode_require(client, frontend_factory, tls_postgres, user):
    api = frontend_factory(client.name, database_url=tls_postgres.url("require"))
    created = create_task(api, user, title="over TLS")
    assert request(api, "GET", user.task(created["id"]), headers=user.headers).json()["title"] == "over TLS"


def test_sslmode_verify_full_with_the_servers_ca(client, frontend_factory, tls_postgres, user):
    url = tls_postgres.url("verify-full", host="localhost", ca_file=tls_postgres.ca_file)
    api = frontend_factory(client.name, database_url=url)
    assert request(api, "GET", "/ready").status == 200
    assert request(api, "GET", user.stats, headers=user.headers).status == 200


def test_a_certificate_from_another_ca_is_refused_as_unavailable(client, frontend_factory, tls_postgres, user):
    url = tls_postgres.url("verify-full", host="localhost", ca_file=tls_postgres.wrong_ca_file)
    api = frontend_factory(client.name, database_url=url, db_pool_timeout_seconds=1.0)
    for path in ("/ready", user.tasks):
        refused = request(api, "GET", path, headers=user.headers)
        assert (refused.status, refused.header("retry-after")) == (503, "5")


def test_a_plain_connection_is_refused_by_the_server(client, frontend_factory, tls_postgres, user):
    api = frontend_factory(client.name, database_url=tls_postgres.url("disable"), db_pool_timeout_seconds=1.0)
    assert request(api, "GET", user.tasks, headers=user.headers).status == 503
