"""Configuration from the environment, and from a `.env` file in the working directory.

Real environment variables win over `.env`. Every problem is a `ConfigError` whose
message is one line naming the variable to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar, cast, get_args

import attrs

from core.auth import DEFAULT_MAX_LIFETIME_SECONDS
from storage.options import DEFAULT_POOL_MAX_SIZE, PreparedMode
from todo_api.servers import DEFAULT_SHUTDOWN_GRACE_SECONDS

WSGI_THREADS_PER_CONNECTION = 4
"""A WSGI worker's threads per pooled connection: the spare threads wait for a connection
(at most DB_POOL_TIMEOUT), so a signed-in client sending a body slowly holds a thread,
never a connection, and takes several dozen such clients to stall a worker."""

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
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return value


def parse_int(name: str, text: str, low: int, high: int) -> int:
    return parse_number(name, text, int, low, high)


def parse_float(name: str, text: str, low: float, high: float) -> float:
    return parse_number(name, text, float, low, high)


def parse_prepared_mode(text: str) -> PreparedMode:
    lowered = text.lower()
    if lowered not in get_args(PreparedMode):
        raise ConfigError(f"DB_PREPARED_STATEMENTS must be auto, on or off, not {text!r}")
    return cast(PreparedMode, lowered)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, in any case; the error lists them."""
    if text.upper() not in {choice.upper() for choice in choices}:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return next(choice for choice in choices if choice.upper() == text.upper())


def parse_token(name: str, text: str | None) -> str | None:
    """A bearer token to compare with: visible ASCII only (what a header carries intact)."""
    if text is not None and not (16 <= len(text) <= 1024 and all("!" <= c <= "~" for c in text)):
        raise ConfigError(
            f"{name} must be 16 to 1024 visible ASCII characters (`openssl rand -hex 32` makes one)"
        )
    return text


def parse_origins(text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise ConfigError(
                f"CORS_ORIGINS entries must be origins like https://app.example.com, not {origin!r}"
            )
    return origins


def parse_url(name: str, text: str | None) -> str | None:
    if text is None:
        return None
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/")


def check_secret(secret: str) -> str:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"BETTER_AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes "
            "(use the same value as the Better Auth frontend; `openssl rand -base64 32` makes one)"
        )
    return secret


@attrs.frozen(slots=True)
class Settings:
    database_url: str | None = None
    better_auth_secret: str | None = attrs.field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    debug: bool = False
    data_dir: Path = Path(".todo-api")
    pool_max_size: int = DEFAULT_POOL_MAX_SIZE
    pool_timeout: float = 5.0
    statement_timeout: float = 5.0
    prepared_statements: PreparedMode = "auto"
    migrate_on_start: bool = True
    docs_enabled: bool = True
    require_if_match: bool = False
    idempotency_key_ttl: float = 24 * 3600
    better_auth_url: str | None = None
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: float = 5.0
    jwt_max_lifetime_seconds: float = DEFAULT_MAX_LIFETIME_SECONDS
    jwks_cache_seconds: float = 300.0
    jwks_refetch_cooldown_seconds: float = 10.0
    token_cache_size: int = 10_000
    max_tasks_per_user: int = 10_000
    list_max_items: int = 1_000
    body_read_timeout: float = 10.0
    write_timeout: float = 30.0
    wsgi_threads: int = WSGI_THREADS_PER_CONNECTION * DEFAULT_POOL_MAX_SIZE
    log_format: str | None = None
    """"json" or "text"; None: text when stderr is a terminal, else JSON."""
    log_level: str = "INFO"
    access_log: bool = True
    metrics_enabled: bool = True
    metrics_token: str | None = attrs.field(default=None, repr=False)
    shutdown_grace_seconds: float = DEFAULT_SHUTDOWN_GRACE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def seconds(name: str, default: float, low: float, high: float) -> float:
            return parse_float(name, get(name) or str(default), low, high)

        secret = get("BETTER_AUTH_SECRET")
        pool_size = parse_int("DB_POOL_MAX_SIZE", get("DB_POOL_MAX_SIZE") or str(DEFAULT_POOL_MAX_SIZE),
                              1, 1000)
        threads = get("WSGI_THREADS") or str(WSGI_THREADS_PER_CONNECTION * pool_size)
        log_format = get("LOG_FORMAT")
        return cls(
            database_url=get("DATABASE_URL"),
            better_auth_secret=check_secret(secret) if secret else None,
            cors_origins=parse_origins(env.get("CORS_ORIGINS", "http://localhost:3000")),
            api_host=get("API_HOST") or "127.0.0.1",
            api_port=parse_int("API_PORT", get("API_PORT") or "8000", 1, 65535),
            debug=parse_bool("DEBUG", env.get("DEBUG", "")),
            data_dir=Path(get("TODO_API_DATA_DIR") or ".todo-api"),
            pool_max_size=pool_size,
            pool_timeout=seconds("DB_POOL_TIMEOUT", 5, 0.1, 600),
            statement_timeout=seconds("DB_STATEMENT_TIMEOUT", 5, 0.1, 3600),
            prepared_statements=parse_prepared_mode(get("DB_PREPARED_STATEMENTS") or "auto"),
            migrate_on_start=parse_bool("MIGRATE_ON_START", env.get("MIGRATE_ON_START", "true")),
            docs_enabled=parse_bool("DOCS_ENABLED", env.get("DOCS_ENABLED", "true")),
            require_if_match=parse_bool("REQUIRE_IF_MATCH", env.get("REQUIRE_IF_MATCH", "false")),
            idempotency_key_ttl=seconds("IDEMPOTENCY_KEY_TTL", 24 * 3600, 1, 30 * 24 * 3600),
            better_auth_url=parse_url("BETTER_AUTH_URL", get("BETTER_AUTH_URL")),
            jwks_url=parse_url("JWKS_URL", get("JWKS_URL")),
            jwt_issuer=get("JWT_ISSUER"),
            jwt_audience=get("JWT_AUDIENCE"),
            jwt_leeway_seconds=seconds("JWT_LEEWAY_SECONDS", 5, 0, 300),
            jwt_max_lifetime_seconds=seconds(
                "JWT_MAX_LIFETIME", DEFAULT_MAX_LIFETIME_SECONDS, 60, 366 * 24 * 3600
            ),
            jwks_cache_seconds=seconds("JWKS_CACHE_SECONDS", 300, 1, 86400),
            jwks_refetch_cooldown_seconds=seconds("JWKS_REFETCH_COOLDOWN_SECONDS", 10, 0, 3600),
            token_cache_size=parse_int("TOKEN_CACHE_SIZE", get("TOKEN_CACHE_SIZE") or "10000", 0, 10_000_000),
            max_tasks_per_user=parse_int(
                "MAX_TASKS_PER_USER", get("MAX_TASKS_PER_USER") or "10000", 1, 10_000_000
            ),
            list_max_items=parse_int("LIST_MAX_ITEMS", get("LIST_MAX_ITEMS") or "1000", 1, 100_000),
            body_read_timeout=seconds("BODY_READ_TIMEOUT", 10, 0.1, 600),
            write_timeout=seconds("WRITE_TIMEOUT", 30, 1, 3600),
            wsgi_threads=parse_int("WSGI_THREADS", threads, 1, 4096),
            log_format=parse_choice("LOG_FORMAT", log_format, ("json", "text")) if log_format else None,
            log_level=parse_choice("LOG_LEVEL", get("LOG_LEVEL") or "INFO", LOG_LEVELS),
            access_log=parse_bool("ACCESS_LOG", env.get("ACCESS_LOG", "true")),
            metrics_enabled=parse_bool("METRICS_ENABLED", env.get("METRICS_ENABLED", "true")),
            metrics_token=parse_token("METRICS_TOKEN", get("METRICS_TOKEN")),
            shutdown_grace_seconds=seconds("SHUTDOWN_GRACE_SECONDS", DEFAULT_SHUTDOWN_GRACE_SECONDS, 1, 600),
        )

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
