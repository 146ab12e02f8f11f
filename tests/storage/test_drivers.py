"""The sync and async drivers run the same plans on real PostgreSQL, failures included."""

import asyncio
import json

import pytest

from core.http import Response, json_response
from core.plan import FetchedKeys, FetchKeys, PlanOutOfOrder, Query, ReadBody
from storage import aio, sync
from storage.options import DatabaseOptions


def echo_plan(sql, params=()):
    """A plan that asks one query and answers its rows, or how the database failed."""
    try:
        rows = yield Query(sql, params)
    except Exception as failure:
        return json_response(599, {"unavailable": failure.unavailable, "sqlstate": failure.sqlstate})
    return json_response(200, [list(row) for row in rows])


def no_query_plan():
    return json_response(204, None)
    yield  # a generator that never asks anything


def fetch_keys(request: FetchKeys) -> FetchedKeys:
    return FetchedKeys(f"keys from {request.url}".encode())


async def fetch_keys_async(request: FetchKeys) -> FetchedKeys:
    return fetch_keys(request)


BODY = b'{"sent": "by the client"}'


def read_body(max_bytes: int) -> bytes:
    return BODY[:max_bytes]


async def read_body_async(max_bytes: int) -> bytes:
    return read_body(max_bytes)


def body_then_query_plan():
    body = yield ReadBody(10)
    rows = yield Query("SELECT %s::text", (body.decode(),))
    return json_response(200, rows[0][0])


def keys_then_query_plan():
    fetched = yield FetchKeys("http://issuer.test/jwks")
    rows = yield Query("SELECT %s::text", (fetched.body.decode(),))
    return json_response(200, rows[0][0])


OPTIONS = DatabaseOptions(pool_timeout=2)


def run_sync(url, plan, options=OPTIONS):
    database = sync.Database(url, options).open()
    try:
        return database.run(plan, fetch_keys=fetch_keys, read_body=read_body)
    finally:
        database.close()


def run_async(url, plan, options=OPTIONS):
    async def go():
        database = await aio.Database(url, options).open()
        try:
            return await database.run(plan, fetch_keys=fetch_keys_async, read_body=read_body_async)
        finally:
            await database.close()

    return asyncio.run(go())


RUNNERS = {"sync": run_sync, "async": run_async}


@pytest.fixture(params=list(RUNNERS))
def run(request):
    return RUNNERS[request.param]


def body(response: Response):
    return json.loads(response.body)


def body_after_query_plan():
    yield Query("SELECT 1")
    yield ReadBody(10)  # too late: the driver holds a connection while a plan queries
    return json_response(200, None)


def test_a_plan_that_asks_for_the_body_after_a_query_is_refused_out_loud(run, database_url):
    """An explicit error, not an `assert` that `python -O` would strip."""
    with pytest.raises(PlanOutOfOrder, match="ReadBody after a query"):
        run(database_url, body_after_query_plan())


def test_rows_come_back(run, database_url):
    response = run(database_url, echo_plan("SELECT %s::int + 1, 'x'", (41,)))
    assert (response.status, body(response)) == (200, [[42, "x"]])


def test_sql_errors_are_thrown_into_the_plan_with_their_sqlstate(run, database_url):
    response = run(database_url, echo_plan("SELECT * FROM no_such_table"))
    assert body(response) == {"unavailable": False, "sqlstate": "42P01"}


def test_unreachable_server_is_reported_as_unavailable(run):
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    response = run(url, echo_plan("SELECT 1"))
    assert body(response) == {"unavailable": True, "sqlstate": None}


def test_plans_that_need_no_data_need_no_connection(run):
    response = run("postgresql://postgres@127.0.0.1:1/none", no_query_plan())
    assert response.status == 204


def test_each_statement_commits_on_its_own(run, database_url):
    run(database_url, echo_plan("CREATE TABLE IF NOT EXISTS driver_probe (n int)"))
    run(database_url, echo_plan("INSERT INTO driver_probe VALUES (1) RETURNING n"))
    response = run(database_url, echo_plan("SELECT count(*) FROM driver_probe"))
    assert body(response)[0][0] >= 1


def test_keys_are_fetched_through_the_given_fetcher_before_queries(run, database_url):
    response = run(database_url, keys_then_query_plan())
    assert body(response) == "keys from http://issuer.test/jwks"


def test_the_body_is_read_through_the_given_reader_up_to_its_limit(run, database_url):
    assert body(run(database_url, body_then_query_plan())) == BODY[:10].decode()


def test_a_statement_past_the_timeout_is_cancelled_as_57014(run, database_url):
    import time

    began = time.monotonic()
    response = run(database_url, echo_plan("SELECT pg_sleep(30)"), DatabaseOptions(statement_timeout=0.5))
    assert body(response) == {"unavailable": False, "sqlstate": "57014"}
    assert time.monotonic() - began < 10  # cancelled, not waited out
    after = run(database_url, echo_plan("SELECT 1"), DatabaseOptions(statement_timeout=0.5))
    assert body(after) == [[1]]


def frozen_mid_plan(proxy_pid, waited):
    """A plan whose connection works for one statement, then the network goes silent;
    `waited` gets how long the second statement took to come back (answer or failure)."""
    import os
    import signal
    import time

    yield Query("SELECT 1")
    os.kill(proxy_pid, signal.SIGSTOP)
    began = time.monotonic()
    response = yield from echo_plan("SELECT 1")
    waited.append(time.monotonic() - began)
    return response


def test_a_database_that_stops_answering_frees_the_request_soon_after_the_timeout(run, database_url):
    """The network goes silent mid-plan (the proxy is frozen): the cancel request cannot
    arrive either, so the watchdog shuts the socket; the plan hears 'unavailable' within
    the timeout plus the watchdog's grace, not after TCP gives up minutes later."""
    import os
    import signal

    from psycopg.conninfo import make_conninfo

    from benchmarks.load.latency import upstream_of
    from benchmarks.load.latency_proxy import LatencyProxy
    from storage.watchdog import FORCE_CLOSE_AFTER_SECONDS

    waited: list[float] = []
    with LatencyProxy(upstream_of(database_url), 1) as proxy:
        url = make_conninfo(database_url, host="127.0.0.1", port=proxy.port)
        try:
            response = run(url, frozen_mid_plan(proxy.process.pid, waited), DatabaseOptions(statement_timeout=0.5))
        finally:
            os.kill(proxy.process.pid, signal.SIGCONT)
    assert body(response)["unavailable"] is True
    assert waited[0] < 0.5 + FORCE_CLOSE_AFTER_SECONDS + 3  # slack for a loaded machine; TCP would take minutes
