"""Configuration from the environment, and from a `.env` file in the working directory.

Real environment variables win over `.env`. Every problem is a `ConfigError` whose
message is one line naming the variable to set.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from core import settings_table as table
from storage.options import FanoutMode, PreparedMode

N = TypeVar("N", int, float)
MIN_SECRET_BYTES = 32  # RFC 7518 section 3.2: an HS256 key as long as the hash


class ConfigError(Exception):
    """Start-up cannot go on; the message says what to set."""


def parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def parse_number(name: str, text: str, kind: type[N], low: N, high: N) -> N:
    """An int or float within [low, high]; the error names the variable and the range."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number of seconds"
        raise ConfigError(f"{name} must be {what}, not {text!r}") from None
    if not low <= value <= high:
        least, most = table.number(low), table.number(high)
        raise ConfigError(f"{name} must be between {least} and {most}, not {value:g}")
    return value


def parse_int(name: str, text: str, low: int, high: int) -> int:
    return parse_number(name, text, int, low, high)


def parse_float(name: str, text: str, low: float, high: float) -> float:
    return parse_number(name, text, float, low, high)


def parse_choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, in any case; the error lists them."""
    if text.upper() not in {choice.upper() for choice in choices}:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return next(choice for choice in choices if choice.upper() == text.upper())


def parse_token(name: str, text: str) -> str:
    """A bearer token to compare with: visible ASCII only (what a header carries intact)."""
    if not (16 <= len(text) <= 1024 and all("!" <= c <= "~" for c in text)):
        raise ConfigError(
            f"{name} must be 16 to 1024 visible ASCII characters (`openssl rand -hex 32` makes one)"
        )
    return text


def parse_origins(name: str, text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise ConfigError(
                f"{name} entries must be origins like https://app.example.com, not {origin!r}"
            )
    return origins


def parse_url(name: str, text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/")


def check_secret(name: str, secret: str) -> str:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{name} must be at least {MIN_SECRET_BYTES} bytes "
            "(use the same value as the Better Auth frontend; `openssl rand -base64 32` makes one)"
        )
    return secret


@attrs.frozen(slots=True)
class Settings:
    """One field per row of `core.settings_table`, named by its `attribute`."""

    database_url: str | None = table.DATABASE_URL.field()
    database_replica_url: str | None = table.DATABASE_REPLICA_URL.field()
    better_auth_url: str | None = table.BETTER_AUTH_URL.field()
    jwks_url: str | None = table.JWKS_URL.field()
    jwt_issuer: str | None = table.JWT_ISSUER.field()
    jwt_audience: str | None = table.JWT_AUDIENCE.field()
    better_auth_secret: str | None = table.BETTER_AUTH_SECRET.field()
    jwt_leeway_seconds: float = table.JWT_LEEWAY_SECONDS.field()
    jwt_max_lifetime_seconds: float = table.JWT_MAX_LIFETIME_SECONDS.field()
    jwks_cache_seconds: float = table.JWKS_CACHE_SECONDS.field()
    jwks_refetch_cooldown_seconds: float = table.JWKS_REFETCH_COOLDOWN_SECONDS.field()
    token_cache_size: int = table.TOKEN_CACHE_SIZE.field()
    max_tasks_per_user: int = table.MAX_TASKS_PER_USER.field()
    list_max_items: int = table.LIST_MAX_ITEMS.field()
    require_if_match: bool = table.REQUIRE_IF_MATCH.field()
    idempotency_key_ttl_seconds: float = table.IDEMPOTENCY_KEY_TTL_SECONDS.field()
    deletions_kept_seconds: float = table.DELETIONS_KEPT_SECONDS.field()
    deletions_kept_per_user: int = table.DELETIONS_KEPT_PER_USER.field()
    events_heartbeat_seconds: float = table.EVENTS_HEARTBEAT_SECONDS.field()
    events_per_user_max: int = table.EVENTS_PER_USER_MAX.field()
    events_per_worker_max: int = table.EVENTS_PER_WORKER_MAX.field()
    events_fanout: FanoutMode = table.EVENTS_FANOUT.field()  # type: ignore[assignment]
    events_poll_interval_seconds: float = table.EVENTS_POLL_INTERVAL_SECONDS.field()
    body_read_timeout_seconds: float = table.BODY_READ_TIMEOUT_SECONDS.field()
    write_timeout_seconds: float = table.WRITE_TIMEOUT_SECONDS.field()
    cors_origins: tuple[str, ...] = table.CORS_ORIGINS.field()
    api_host: str = table.API_HOST.field()
    api_port: int = table.API_PORT.field()
    shutdown_grace_seconds: float = table.SHUTDOWN_GRACE_SECONDS.field()
    shutdown_drain_seconds: float = table.SHUTDOWN_DRAIN_SECONDS.field()
    docs_enabled: bool = table.DOCS_ENABLED.field()
    metrics_enabled: bool = table.METRICS_ENABLED.field()
    metrics_token: str | None = table.METRICS_TOKEN.field()
    log_format: str | None = table.LOG_FORMAT.field()
    """"json" or "text"; None: text when stderr is a terminal, else JSON."""
    log_level: str = table.LOG_LEVEL.field()
    access_log_enabled: bool = table.ACCESS_LOG_ENABLED.field()
    db_pool_max_size: int = table.DB_POOL_MAX_SIZE.field()
    db_pool_timeout_seconds: float = table.DB_POOL_TIMEOUT_SECONDS.field()
    db_statement_timeout_seconds: float = table.DB_STATEMENT_TIMEOUT_SECONDS.field()
    db_connect_timeout_seconds: int = table.DB_CONNECT_TIMEOUT_SECONDS.field()
    db_probe_max_interval_seconds: float = table.DB_PROBE_MAX_INTERVAL_SECONDS.field()
    db_prepared_statements: PreparedMode = table.DB_PREPARED_STATEMENTS.field()  # type: ignore[assignment]
    migrate_on_start: bool = table.MIGRATE_ON_START.field()
    data_dir: Path = table.DATA_DIR.field()
    wsgi_threads: int = table.WSGI_THREADS.field(default=attrs.Factory(
        lambda self: table.WSGI_THREADS_PER_CONNECTION * self.db_pool_max_size, takes_self=True))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Each row's variable that is set, parsed; a row's former name still works, with a
        FutureWarning; unset rows keep their defaults."""
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            setting: table.Setting[Any] = field.metadata["setting"]
            found = read(env, setting)
            if found is not None:
                values[field.name] = parse(*found, setting)
        if "log_level" not in values and parse_bool("DEBUG", env.get("DEBUG", "")):
            renamed("DEBUG=true", "LOG_LEVEL=DEBUG")
            values["log_level"] = "DEBUG"
        return cls(**values)

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ConfigError(
                "DATABASE_URL is not set: set it to a PostgreSQL URL "
                "(or run `todo-api serve`, which starts an embedded database)"
            )
        return self.database_url

    @property
    def jwks_enabled(self) -> bool:
        return bool(self.better_auth_url or self.jwks_url)

    def jwks_address(self) -> str:
        return self.jwks_url or f"{self.better_auth_url}/api/auth/jwks"

    def jwks_issuer(self) -> str:
        """Better Auth sets `iss` to its base URL; JWT_ISSUER says otherwise."""
        issuer = self.jwt_issuer or self.better_auth_url
        if not issuer:
            raise ConfigError("JWT_ISSUER is not set: with JWKS_URL alone, set the issuer tokens must carry")
        return issuer

    def jwks_audience(self) -> str:
        audience = self.jwt_audience or self.better_auth_url
        if not audience:
            raise ConfigError(
                "JWT_AUDIENCE is not set: with JWKS_URL alone, set the audience tokens must carry"
            )
        return audience

    def require_token_source(self) -> None:
        if not self.better_auth_secret and not self.jwks_enabled:
            raise ConfigError(
                "neither BETTER_AUTH_URL nor BETTER_AUTH_SECRET is set: set BETTER_AUTH_URL to your "
                "Better Auth server (its JWKS verifies tokens) or BETTER_AUTH_SECRET to its HS256 secret"
            )
        if self.jwks_enabled:
            self.jwks_issuer()
            self.jwks_audience()

    def require_secret(self) -> str:
        if not self.better_auth_secret:
            raise ConfigError(
                "BETTER_AUTH_SECRET is not set: set it to the secret your Better Auth frontend uses"
            )
        return self.better_auth_secret


def renamed(old: str, new: str) -> None:
    message = f"{old} is now spelled {new}; the old name stops working in the next release"
    warnings.warn(message, FutureWarning, stacklevel=4)


def read(env: Mapping[str, str], setting: table.Setting[Any]) -> tuple[str, str] | None:
    """The variable's name and text, by its former name when only that is set; None when
    unset. Empty text is unset, except for a flag (false) and an origin list (none)."""
    name = setting.name
    if name not in env and setting.formerly is not None and setting.formerly in env:
        renamed(setting.formerly, name)
        name = setting.formerly
    text = env.get(name, "").strip()
    if name not in env or (not text and setting.kind not in ("bool", "origins")):
        return None
    return name, text


PARSERS: dict[table.Kind, Callable[[str, str, table.Setting[Any]], Any]] = {
    "text": lambda name, text, setting: text,
    "path": lambda name, text, setting: Path(text),
    "url": lambda name, text, setting: parse_url(name, text),
    "secret": lambda name, text, setting: check_secret(name, text),
    "token": lambda name, text, setting: parse_token(name, text),
    "origins": lambda name, text, setting: parse_origins(name, text),
    "bool": lambda name, text, setting: parse_bool(name, text),
    "int": lambda name, text, setting: parse_int(name, text, *map(int, setting.bounds)),
    "seconds": lambda name, text, setting: parse_float(name, text, *setting.bounds),
    "choice": lambda name, text, setting: parse_choice(name, text, setting.choices),
}


def parse(name: str, text: str, setting: table.Setting[Any]) -> Any:
    return PARSERS[setting.kind](name, text, setting)


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines; `export`, comments, blank lines and matching quotes are understood."""
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name.strip()] = value
    return values


def environment(dotenv_path: Path = Path(".env")) -> dict[str, str]:
    """The process environment over the `.env` file's values."""
    merged = parse_dotenv(dotenv_path.read_text()) if dotenv_path.is_file() else {}
    merged.update(os.environ)
    return merged


def load_settings(dotenv_path: Path = Path(".env")) -> Settings:
    return Settings.from_env(environment(dotenv_path))
