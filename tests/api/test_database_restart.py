"""Connections a database restart closed are never handed to a request.

The pool holds idle connections when PostgreSQL restarts (a failover, a managed upgrade,
a pooler's idle timeout). Each is checked at checkout for a server that hung up, without
a round trip, so the first requests after the restart answer 200, not 503.
"""



from tests.api.clients import make_call, request


def test_the_first_requests_after_a_restart_succeed(client, frontend_factory, own_postgres, user):
    restarted = frontend_factory(client.name, database_url=own_postgres.url())
    warm = restarted.many([make_call("GET", user.tasks, user.headers, None, None) for _ in range(24)])
    assert {r.status for r in warm} == {200}  # several pooled connections are open now
    own_postgres.stop()
    own_postgres.start()
    after = [request(restarted, "GET", user.tasks, headers=user.headers).status for _ in range(30)]
    assert after == [200] * 30
