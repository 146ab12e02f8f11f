"""What both frontends build from the settings, built in one place so they cannot drift."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from core import settings_table as table
from core.api import Api
from core.auth import Authenticator, ClaimRules
from core.http import Request, lower_headers
from core.keys import KeyStore
from core.routes import Limits
from core.token_cache import TokenCache
from storage.fanout import STOP_FILE
from storage.options import DatabaseOptions
from todo_api.config.settings import Settings
from todo_api.glue.stopping import StopNotice
from todo_api.observe.logs import attach_request_ids


def build_authenticator(settings: Settings) -> Authenticator:
    settings.require_token_source()
    keys = None
    if settings.jwks_enabled:
        keys = KeyStore(
            settings.jwks_address(),
            max_age=settings.jwks_cache_seconds,
            cooldown=settings.jwks_refetch_cooldown_seconds,
        )
    return Authenticator(
        secret=settings.better_auth_secret,
        keys=keys,
        secret_rules=ClaimRules(settings.jwt_issuer, settings.jwt_audience),
        jwks_rules=(
            ClaimRules(settings.jwks_issuer(), settings.jwks_audience()) if keys else ClaimRules()
        ),
        leeway_seconds=settings.jwt_leeway_seconds,
        max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
        cache=TokenCache(settings.token_cache_size),
    )


def database_options(settings: Settings) -> DatabaseOptions:
    return DatabaseOptions(
        max_size=settings.db_pool_max_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        probe_max_delay=settings.db_probe_max_interval_seconds,
        prepared_statements=settings.db_prepared_statements,
        fanout=settings.events_fanout,
        poll_interval=settings.events_poll_interval_seconds,
        stop_file=os.environ.get(STOP_FILE),  # given by `todo-api serve`
        replica_url=settings.database_replica_url,
    )


@functools.cache
def docs_assets() -> dict[str, bytes]:
    """Swagger UI's files, from the installed `swagger-ui-bundle-v2` package."""
    import swagger_ui_bundle

    folder = Path(swagger_ui_bundle.swagger_ui_path)
    return {name: (folder / name).read_bytes() for name in ("swagger-ui.css", "swagger-ui-bundle.js")}


def events_per_worker(settings: Settings, interface: Literal["wsgi", "asgi"]) -> int:
    """EVENTS_PER_WORKER_MAX, or by default what the interface holds: an ASGI subscriber is
    a coroutine; a WSGI one holds a server thread for as long as it streams, so a Flask
    worker streams on the threads beyond DB_POOL_MAX_SIZE and keeps those for requests."""
    if settings.events_per_worker_max:
        return settings.events_per_worker_max
    if interface == "asgi":
        return table.EVENTS_PER_WORKER_MAX_ASGI
    return max(1, settings.wsgi_threads - settings.db_pool_max_size)


def build_api(settings: Settings, interface: Literal["wsgi", "asgi"]) -> Api:
    attach_request_ids()  # every log line of its requests names the request
    limits = Limits(
        max_tasks_per_user=settings.max_tasks_per_user,
        list_max_items=settings.list_max_items,
        require_if_match=settings.require_if_match,
        idempotency_key_ttl_seconds=settings.idempotency_key_ttl_seconds,
        deletions_kept_seconds=settings.deletions_kept_seconds,
        deletions_kept_per_user=settings.deletions_kept_per_user,
        events_heartbeat_seconds=settings.events_heartbeat_seconds,
        events_per_user_max=settings.events_per_user_max,
        events_per_worker_max=events_per_worker(settings, interface),
        read_replica=settings.database_replica_url is not None,
    )
    assets = docs_assets() if settings.docs_enabled else None
    return Api(build_authenticator(settings), settings.cors_origins, limits=limits, docs_assets=assets,
               metrics=settings.metrics_enabled, metrics_token=settings.metrics_token,
               stopping=StopNotice(os.environ.get(STOP_FILE)))


def core_request(method: str, path: str, query_string: bytes, headers: Iterable[tuple[str, str]]) -> Request:
    """The request a framework refused before the core saw it (its body is never needed)."""
    return Request(method, path, query_string, lower_headers(headers))
