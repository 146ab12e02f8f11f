"""Every setting, once: its environment variable, type, default, bounds and meaning.

`todo_api.config.Settings` declares a field per row and parses the environment by it,
the core's `Limits`, the pool's and the servers' defaults read their rows' defaults, and
`todo-api settings` prints the table docs/configuration.md holds (a test compares them).
A row's `formerly` is its name in 0.1: still read, with a warning, for one more release.
Pure data, so the lowest layer can hold it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import attrs

T = TypeVar("T")
Kind = Literal["text", "url", "secret", "token", "origins", "path", "bool", "int", "seconds", "choice"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@attrs.frozen
class Setting(Generic[T]):
    name: str
    """The environment variable."""
    kind: Kind
    default: T
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    default_text: str | None = None
    """How the docs state a default that is not a plain value (derived, or none)."""
    formerly: str | None = None

    @property
    def attribute(self) -> str:
        """The `Settings` field: the variable in lower case, without the project prefix."""
        return self.name.lower().removeprefix("todo_api_")

    @property
    def bounds(self) -> tuple[float, float]:
        """The least and the most a number may be."""
        assert self.low is not None and self.high is not None, f"{self.name} is not a number"
        return self.low, self.high

    def field(self, **factory: Any) -> T:
        """This row as an attrs field of `Settings` (secrets kept out of its repr)."""
        options: dict[str, Any] = factory or {"default": self.default}
        return attrs.field(**options, repr=self.kind not in ("secret", "token"),  # type: ignore[no-any-return]
                           metadata={"setting": self})


def seconds(name: str, default: float, low: float, high: float, meaning: str,
            formerly: str | None = None) -> Setting[float]:
    return Setting(name, "seconds", default, meaning, low, high, formerly=formerly)


def whole(name: str, default: int, low: int, high: int, meaning: str) -> Setting[int]:
    return Setting(name, "int", default, meaning, low, high)


def flag(name: str, default: bool, meaning: str, formerly: str | None = None) -> Setting[bool]:
    return Setting(name, "bool", default, meaning, formerly=formerly)


DAY = 24 * 3600.0

DATABASE_URL = Setting[str | None](
    "DATABASE_URL", "text", None,
    "a PostgreSQL URL; when unset, `serve` and `migrate` use the embedded server",
    default_text="(embedded PostgreSQL)")
DATABASE_REPLICA_URL = Setting[str | None](
    "DATABASE_REPLICA_URL", "text", None,
    "a read replica's PostgreSQL URL (several hosts allowed): list, get, stats and changes read from it "
    "once it has the user's latest write, else from the primary (docs/scaling.md)")
BETTER_AUTH_URL = Setting[str | None](
    "BETTER_AUTH_URL", "url", None,
    "your Better Auth server's base URL (e.g. `https://app.example.com`): turns on JWKS verification")
JWKS_URL = Setting[str | None](
    "JWKS_URL", "url", None, "where the signing keys are published",
    default_text="`$BETTER_AUTH_URL/api/auth/jwks`")
JWT_ISSUER = Setting[str | None](
    "JWT_ISSUER", "text", None,
    "the `iss` tokens must carry (HS256 tokens are checked only when it is set)",
    default_text="`$BETTER_AUTH_URL`")
JWT_AUDIENCE = Setting[str | None](
    "JWT_AUDIENCE", "text", None,
    "the `aud` tokens must carry (HS256 tokens are checked only when it is set)",
    default_text="`$BETTER_AUTH_URL`")
BETTER_AUTH_SECRET = Setting[str | None](
    "BETTER_AUTH_SECRET", "secret", None,
    "a shared HS256 secret of at least 32 bytes; this, `BETTER_AUTH_URL` or both",
    default_text="(generated in embedded mode)")
JWT_LEEWAY_SECONDS = seconds("JWT_LEEWAY_SECONDS", 5.0, 0, 300, "clock skew tolerated on `exp` and `nbf`")
JWT_MAX_LIFETIME_SECONDS = seconds(
    "JWT_MAX_LIFETIME_SECONDS", DAY, 60, 366 * DAY,
    "a token whose `exp` is further away is refused (a leaked token stays useful at most this long)",
    formerly="JWT_MAX_LIFETIME")
JWKS_CACHE_SECONDS = seconds("JWKS_CACHE_SECONDS", 300.0, 1, DAY,
                             "how long fetched keys are used before they are fetched again")
JWKS_REFETCH_COOLDOWN_SECONDS = seconds(
    "JWKS_REFETCH_COOLDOWN_SECONDS", 10.0, 0, 3600,
    "at most one JWKS fetch per this window, however many unknown `kid`s arrive")
TOKEN_CACHE_SIZE = whole("TOKEN_CACHE_SIZE", 10_000, 0, 10_000_000,
                         "verified tokens remembered (each until its `exp`) per process; `0` turns it off")
MAX_TASKS_PER_USER = whole(
    "MAX_TASKS_PER_USER", 10_000, 1, 10_000_000,
    "a create past this answers 409 and stores nothing (exact under concurrent creates)")
LIST_MAX_ITEMS = whole("LIST_MAX_ITEMS", 1_000, 1, 100_000,
                       "the most tasks one list answer holds; a cut answer carries `X-Truncated: true`")
REQUIRE_IF_MATCH = flag("REQUIRE_IF_MATCH", False,
                        "PUT, PATCH `…/complete` and DELETE answer 428 without `If-Match`")
IDEMPOTENCY_KEY_TTL_SECONDS = seconds(
    "IDEMPOTENCY_KEY_TTL_SECONDS", DAY, 1, 30 * DAY,
    "how long an `Idempotency-Key` and its first answer are kept",
    formerly="IDEMPOTENCY_KEY_TTL")
DELETIONS_KEPT_SECONDS = seconds(
    "DELETIONS_KEPT_SECONDS", 30 * DAY, 60, 3660 * DAY,
    "how long a deletion stays in the change feed (pruned at the user's next delete); "
    "a client behind that reloads its list (410)")
DELETIONS_KEPT_PER_USER = whole(
    "DELETIONS_KEPT_PER_USER", 10_000, 1, 10_000_000,
    "the most deletions the change feed keeps per user (the newest); a client behind them reloads (410)")
EVENTS_HEARTBEAT_SECONDS = seconds(
    "EVENTS_HEARTBEAT_SECONDS", 15.0, 0.05, 15,
    "an event stream idle this long gets a comment line, so that proxies keep it open")
EVENTS_PER_USER_MAX = whole(
    "EVENTS_PER_USER_MAX", 10, 1, 10_000,
    "event streams one user may hold open per server process; past it 503 with `Retry-After`")
EVENTS_PER_WORKER_MAX_ASGI = 5_000
"""Quart's default: a subscriber costs a coroutine and a few KiB, not a thread."""
EVENTS_PER_WORKER_MAX = Setting[int](
    "EVENTS_PER_WORKER_MAX", "int", 0,
    "event streams per server process; past it 503 with `Retry-After` (docs/events.md)", 0, 1_000_000,
    default_text=f"Quart: {EVENTS_PER_WORKER_MAX_ASGI:,}; Flask: `WSGI_THREADS` − `DB_POOL_MAX_SIZE`")
EVENTS_FANOUT = Setting[str](
    "EVENTS_FANOUT", "choice", "auto",
    "how a process learns of changes: `listen` (LISTEN/NOTIFY), `poll` (one statement per interval); "
    "`auto`: `listen` on a direct connection, `poll` behind a pooler",
    choices=("auto", "listen", "poll"))
EVENTS_POLL_INTERVAL_SECONDS = seconds(
    "EVENTS_POLL_INTERVAL_SECONDS", 0.2, 0.01, 10,
    "in `poll` mode, how often a process reads the revisions of the users it streams to")
BODY_READ_TIMEOUT_SECONDS = seconds(
    "BODY_READ_TIMEOUT_SECONDS", 10.0, 0.1, 600,
    "how long a request body may take to arrive before the answer is 408 "
    "(Quart; Flask: docs/security.md)",
    formerly="BODY_READ_TIMEOUT")
WRITE_TIMEOUT_SECONDS = seconds(
    "WRITE_TIMEOUT_SECONDS", 30.0, 1, 3600,
    "how long a client may leave an answer unread before its connection is dropped (Linux, under "
    "uvicorn; granian cannot enforce it: docs/operating.md)",
    formerly="WRITE_TIMEOUT")
CORS_ORIGINS = Setting[tuple[str, ...]](
    "CORS_ORIGINS", "origins", ("http://localhost:3000",),
    "comma-separated origins allowed to call from a browser (`*`: any, without credentials; empty: none)")
API_HOST = Setting[str]("API_HOST", "text", "127.0.0.1", "address `serve` binds (`--host` overrides)")
API_PORT = whole("API_PORT", 8000, 1, 65535, "port `serve` binds (`--port` overrides)")
SHUTDOWN_GRACE_SECONDS = seconds(
    "SHUTDOWN_GRACE_SECONDS", 10.0, 1, 600,
    "on SIGTERM, how long requests in flight may take to finish before their worker is killed")
SHUTDOWN_DRAIN_SECONDS = seconds(
    "SHUTDOWN_DRAIN_SECONDS", 0.0, 0, 600,
    "on SIGTERM, how long `serve` goes on answering before it stops accepting, with `/ready` answering "
    "503 and every answer closing its connection; behind a load balancer, longer than its health "
    "checks take to mark the instance down (docs/scaling.md)")
WSGI_THREADS_PER_CONNECTION = 4
"""A WSGI worker's threads per pooled connection: the spare threads wait for a connection
(at most DB_POOL_TIMEOUT_SECONDS), so a client sending a body slowly holds a thread, never
a connection, and takes several dozen such clients to stall a worker."""
WSGI_THREADS = Setting[int](
    "WSGI_THREADS", "int", 0,
    "threads per Flask worker: at least the pool size; the rest absorb slow clients",
    1, 4096, default_text=f"{WSGI_THREADS_PER_CONNECTION} × `DB_POOL_MAX_SIZE`")
DOCS_ENABLED = flag("DOCS_ENABLED", True, "serve `/openapi.json` and the `/docs` page")
METRICS_ENABLED = flag("METRICS_ENABLED", True,
                       "serve `GET /metrics` (Prometheus); `false` removes the route and counts nothing")
METRICS_TOKEN = Setting[str | None](
    "METRICS_TOKEN", "token", None,
    "when set (16-1024 visible ASCII characters), `/metrics` answers only `Authorization: Bearer <it>`")
LOG_FORMAT = Setting[str | None](
    "LOG_FORMAT", "choice", None, "log lines as one JSON object each, or as text", choices=("json", "text"),
    default_text="`text` on a terminal, else `json`")
LOG_LEVEL = Setting[str](
    "LOG_LEVEL", "choice", "INFO",
    "the least severe lines logged; access lines are `INFO` (`DEBUG=true`, its old spelling, means `DEBUG`)",
    choices=LOG_LEVELS)
ACCESS_LOG_ENABLED = flag("ACCESS_LOG_ENABLED", True, "one line per request", formerly="ACCESS_LOG")
DB_POOL_MAX_SIZE = whole("DB_POOL_MAX_SIZE", 24, 1, 1000,
                         "connections per server process, opened as needed (docs/databases.md)")
"""24 is 1.5x the even share of 32 concurrent requests over 2 workers, because the kernel
does not share connections evenly between workers (SO_REUSEPORT hashes each: 12/20 or
worse in about a third of the benchmark's cells). With 16, the worker holding 20 kept 4
requests waiting for the pool, and a database 10 ms away served 2,308-2,583 req/s by the
split; with 24, 2,552-2,576."""
DB_POOL_TIMEOUT_SECONDS = seconds(
    "DB_POOL_TIMEOUT_SECONDS", 5.0, 0.1, 600,
    "how long a request waits for a free connection before it answers 503",
    formerly="DB_POOL_TIMEOUT")
DB_STATEMENT_TIMEOUT_SECONDS = seconds(
    "DB_STATEMENT_TIMEOUT_SECONDS", 5.0, 0.1, 3600,
    "how long one statement may run before it is cancelled and the request answers 503",
    formerly="DB_STATEMENT_TIMEOUT")
DB_CONNECT_TIMEOUT_SECONDS = whole(
    "DB_CONNECT_TIMEOUT_SECONDS", 3, 2, 600,
    "how long one connection attempt to one host may take (a host that went silent); "
    "a `connect_timeout` in the URL wins")
DB_PROBE_MAX_INTERVAL_SECONDS = seconds(
    "DB_PROBE_MAX_INTERVAL_SECONDS", 0.5, 0.05, 60,
    "while the database is unreachable (requests answer 503 at once), each process tries it again "
    "after 0.05 s, doubling up to this; it serves again within this of the database's return")
DB_PREPARED_STATEMENTS = Setting[str](
    "DB_PREPARED_STATEMENTS", "choice", "auto",
    "`auto`: prepared statements on a direct connection, off behind a pooler; `on` or `off` to force",
    choices=("auto", "on", "off"))
MIGRATE_ON_START = flag("MIGRATE_ON_START", True,
                        "each server process applies pending migrations as it starts")
DATA_DIR = Setting[Path]("TODO_API_DATA_DIR", "path", Path(".todo-api"),
                         "where the embedded database and the development secret live")

SETTINGS: tuple[Setting[Any], ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Setting)
)
"""Every row, in the order above (the docs' order)."""


def shown(value: object) -> str:
    """A default as the docs write it."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return "(none)" if value is None else f"`{value}`"


def number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def bounds(setting: Setting[Any]) -> str:
    if setting.choices:
        return ", ".join(f"`{choice}`" for choice in setting.choices)
    if setting.low is not None and setting.high is not None:
        return f"{number(setting.low)} to {number(setting.high)}"
    return ""


def markdown_table() -> str:
    """The table docs/configuration.md holds (`uv run todo-api settings` prints it)."""
    lines = ["| variable | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        formerly = f" (was `{setting.formerly}`)" if setting.formerly else ""
        default = setting.default_text or shown(setting.default)
        lines.append(f"| `{setting.name}`{formerly} | {setting.kind} | {default} | {bounds(setting)} "
                     f"| {setting.meaning} |")
    return "\n".join(lines) + "\n"
