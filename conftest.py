"""Fixtures shared by tests/ and benchmarks/: the database, loaded as a plugin."""

pytest_plugins = ["tests.database", "tests.local_postgres", "tests.pgbouncer", "tests.tls_postgres"]
