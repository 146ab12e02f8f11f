"""Configuration parsing: defaults, .env syntax, and one clear line per mistake."""

import pytest

from todo_api.settings import ConfigError, Settings, parse_dotenv
from todo_api.wiring import build_authenticator

SECRET = "s" * 32


def test_defaults():
    settings = Settings.from_env({})
    assert settings.cors_origins == ("http://localhost:3000",)
    assert (settings.api_host, settings.api_port, settings.debug) == ("127.0.0.1", 8000, False)
    assert settings.database_url is None


def test_operating_settings():
    assert (Settings.from_env({}).log_format, Settings.from_env({}).log_level) == (None, "INFO")
    settings = Settings.from_env({"LOG_FORMAT": "JSON", "LOG_LEVEL": "warning", "ACCESS_LOG": "false",
                                  "METRICS_ENABLED": "false", "METRICS_TOKEN": "t" * 16,
                                  "SHUTDOWN_GRACE_SECONDS": "2.5"})
    assert (settings.log_format, settings.log_level, settings.access_log) == ("json", "WARNING", False)
    assert (settings.metrics_enabled, settings.metrics_token, settings.shutdown_grace_seconds) == (
        False, "t" * 16, 2.5)
    assert "t" * 16 not in repr(settings)


def test_values_are_read():
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://x/y", "BETTER_AUTH_SECRET": SECRET,
        "CORS_ORIGINS": "https://a.example, https://b.example/", "API_PORT": "9000", "DEBUG": "true",
    })
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.api_port == 9000 and settings.debug


@pytest.mark.parametrize("env, names", [
    ({"API_PORT": "http"}, "API_PORT"),
    ({"API_PORT": "70000"}, "API_PORT"),
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"BETTER_AUTH_SECRET": "short"}, "BETTER_AUTH_SECRET"),
    ({"CORS_ORIGINS": "localhost:3000"}, "CORS_ORIGINS"),
    ({"DB_PREPARED_STATEMENTS": "sometimes"}, "DB_PREPARED_STATEMENTS"),
    ({"DB_STATEMENT_TIMEOUT": "0"}, "DB_STATEMENT_TIMEOUT"),
    ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT"),
    ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"ACCESS_LOG": "sometimes"}, "ACCESS_LOG"),
    ({"METRICS_ENABLED": "perhaps"}, "METRICS_ENABLED"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
    ({"METRICS_TOKEN": "sixteen chars with spaces"}, "METRICS_TOKEN"),
    ({"METRICS_TOKEN": "é" * 20}, "METRICS_TOKEN"),
    ({"SHUTDOWN_GRACE_SECONDS": "0"}, "SHUTDOWN_GRACE_SECONDS"),
])
def test_mistakes_name_the_variable(env, names):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


def test_database_settings():
    defaults = Settings.from_env({})
    assert (defaults.pool_max_size, defaults.pool_timeout, defaults.statement_timeout) == (24, 5.0, 5.0)
    assert defaults.prepared_statements == "auto"
    given = Settings.from_env({"DB_POOL_MAX_SIZE": "40", "DB_POOL_TIMEOUT": "2.5", "DB_STATEMENT_TIMEOUT": "30",
                               "DB_PREPARED_STATEMENTS": "OFF"})
    assert (given.pool_max_size, given.pool_timeout, given.statement_timeout) == (40, 2.5, 30.0)
    assert given.prepared_statements == "off"


def test_wsgi_threads_follow_the_pool_unless_given():
    assert Settings.from_env({}).wsgi_threads == 96
    assert Settings.from_env({"DB_POOL_MAX_SIZE": "10"}).wsgi_threads == 40
    assert Settings.from_env({"DB_POOL_MAX_SIZE": "10", "WSGI_THREADS": "12"}).wsgi_threads == 12
    with pytest.raises(ConfigError, match="WSGI_THREADS"):
        Settings.from_env({"WSGI_THREADS": "0"})


def test_hostile_client_limits():
    defaults = Settings.from_env({})
    assert (defaults.max_tasks_per_user, defaults.list_max_items, defaults.body_read_timeout,
            defaults.write_timeout) == (10_000, 1_000, 10, 30)
    given = Settings.from_env({"MAX_TASKS_PER_USER": "50", "LIST_MAX_ITEMS": "20", "BODY_READ_TIMEOUT": "3",
                               "WRITE_TIMEOUT": "2.5"})
    assert (given.max_tasks_per_user, given.list_max_items, given.body_read_timeout,
            given.write_timeout) == (50, 20, 3, 2.5)


def test_missing_requirements_say_what_to_set():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({}).require_database_url()
    with pytest.raises(ConfigError, match="BETTER_AUTH_SECRET"):
        Settings.from_env({}).require_secret()


def test_dotenv_syntax():
    text = """
# comment
export DATABASE_URL="postgresql://u:p@h/db?sslmode=require"
BETTER_AUTH_SECRET='quoted # not a comment'
API_PORT=8001 # trailing comment
EMPTY=
not a line
"""
    assert parse_dotenv(text) == {
        "DATABASE_URL": "postgresql://u:p@h/db?sslmode=require",
        "BETTER_AUTH_SECRET": "quoted # not a comment",
        "API_PORT": "8001",
        "EMPTY": "",
    }


def test_better_auth_url_turns_on_jwks_with_issuer_and_audience():
    settings = Settings.from_env({"BETTER_AUTH_URL": "https://app.example.com/"})
    assert settings.jwks_enabled
    assert settings.jwks_address() == "https://app.example.com/api/auth/jwks"
    assert (settings.jwks_issuer(), settings.jwks_audience()) == ("https://app.example.com",) * 2
    settings.require_token_source()  # a secret is not needed as well


def test_jwks_overrides():
    settings = Settings.from_env({
        "BETTER_AUTH_URL": "https://app.example.com", "JWKS_URL": "https://keys.example.com/jwks",
        "JWT_ISSUER": "https://issuer.example.com", "JWT_AUDIENCE": "todo-api",
        "JWT_LEEWAY_SECONDS": "2.5", "JWKS_REFETCH_COOLDOWN_SECONDS": "30", "JWT_MAX_LIFETIME": "900",
    })
    assert settings.jwks_address() == "https://keys.example.com/jwks"
    assert (settings.jwks_issuer(), settings.jwks_audience()) == ("https://issuer.example.com", "todo-api")
    assert (settings.jwt_leeway_seconds, settings.jwks_refetch_cooldown_seconds) == (2.5, 30)
    assert settings.jwt_max_lifetime_seconds == 900
    assert build_authenticator(settings).max_lifetime == 900


def test_jwks_url_alone_needs_an_issuer_and_audience():
    with pytest.raises(ConfigError, match="JWT_ISSUER"):
        Settings.from_env({"JWKS_URL": "https://keys.example.com/jwks"}).require_token_source()


@pytest.mark.parametrize("env, name", [
    ({"BETTER_AUTH_URL": "app.example.com"}, "BETTER_AUTH_URL"),
    ({"JWT_LEEWAY_SECONDS": "lots"}, "JWT_LEEWAY_SECONDS"),
    ({"JWT_LEEWAY_SECONDS": "3600"}, "JWT_LEEWAY_SECONDS"),
    ({"JWT_MAX_LIFETIME": "forever"}, "JWT_MAX_LIFETIME"),
    ({"JWT_MAX_LIFETIME": "0"}, "JWT_MAX_LIFETIME"),
])
def test_jwks_mistakes_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_neither_token_source_is_a_clear_error():
    with pytest.raises(ConfigError, match="neither BETTER_AUTH_URL nor BETTER_AUTH_SECRET"):
        Settings.from_env({}).require_token_source()
