"""The PostgreSQL every test and benchmark that needs one shares (a pytest plugin).

`TEST_DATABASE_URL` points the suite at a server you run; without it, an embedded
PostgreSQL starts in a temporary directory and is deleted afterwards. Either way the
suite works in a database of its own, created here and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from storage.embedded import start_embedded
from storage.migrate import migrate
from tests.helpers import SECRET
from tests.statements import log_every_statement, sent_by_the_api, untenanted
from todo_api.config.settings import Settings


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    database = start_embedded(Path(tmp_path_factory.mktemp("pg")), cleanup="delete")
    log_every_statement(database.url)
    yield database.url
    try:
        wrong = untenanted(sent_by_the_api(database.pgdata / "log"))
        assert not wrong, "statements touching per-user tables without a \"userId\" equality:\n" + "\n".join(wrong)
    finally:
        database.stop()


@pytest.fixture(scope="session")
def create_database(server_url: str) -> Iterator[object]:
    """A factory of empty databases on the test server, all dropped at the end."""
    made: list[str] = []

    def create(migrated: bool = True) -> str:
        name = f"todo_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        url = make_conninfo(server_url, dbname=name)
        if migrated:
            migrate(url)
        return url

    yield create
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(create_database) -> str:  # type: ignore[no-untyped-def]
    return create_database()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        better_auth_secret=SECRET,
        cors_origins=("http://localhost:3000",),
        migrate_on_start=False,
    )


def database_name(url: str) -> str:
    return conninfo_to_dict(url)["dbname"]  # type: ignore[return-value]
