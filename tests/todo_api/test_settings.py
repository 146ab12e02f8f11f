"""Configuration: one table, its defaults, .env syntax, one clear line per mistake, and
the names of 0.1 still read for one release."""

import warnings
from pathlib import Path

import attrs
import pytest

from core import settings_table as table
from core.routes import Limits
from todo_api.config.settings import ConfigError, Settings, parse_dotenv
from todo_api.glue.wiring import build_authenticator
from todo_api.serve.cli import main

SECRET = "s" * 32


def test_defaults():
    settings = Settings.from_env({})
    assert settings.cors_origins == ("http://localhost:3000",)
    assert (settings.api_host, settings.api_port, settings.log_level) == ("127.0.0.1", 8000, "INFO")
    assert settings.database_url is None


def test_operating_settings():
    assert (Settings.from_env({}).log_format, Settings.from_env({}).log_level) == (None, "INFO")
    settings = Settings.from_env({"LOG_FORMAT": "JSON", "LOG_LEVEL": "warning", "ACCESS_LOG_ENABLED": "false",
                                  "METRICS_ENABLED": "false", "METRICS_TOKEN": "t" * 16,
                                  "SHUTDOWN_GRACE_SECONDS": "2.5"})
    assert (settings.log_format, settings.log_level, settings.access_log_enabled) == ("json", "WARNING", False)
    assert (settings.metrics_enabled, settings.metrics_token, settings.shutdown_grace_seconds) == (
        False, "t" * 16, 2.5)
    assert "t" * 16 not in repr(settings)


def test_values_are_read():
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://x/y", "BETTER_AUTH_SECRET": SECRET,
        "CORS_ORIGINS": "https://a.example, https://b.example/", "API_PORT": "9000", "LOG_LEVEL": "debug",
    })
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.api_port == 9000 and settings.log_level == "DEBUG"


@pytest.mark.parametrize("env, names", [
    ({"API_PORT": "http"}, "API_PORT"),
    ({"API_PORT": "70000"}, "API_PORT"),
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"MIGRATE_ON_START": "maybe"}, "MIGRATE_ON_START"),
    ({"BETTER_AUTH_SECRET": "short"}, "BETTER_AUTH_SECRET"),
    ({"CORS_ORIGINS": "localhost:3000"}, "CORS_ORIGINS"),
    ({"DB_PREPARED_STATEMENTS": "sometimes"}, "DB_PREPARED_STATEMENTS"),
    ({"DB_STATEMENT_TIMEOUT_SECONDS": "0"}, "DB_STATEMENT_TIMEOUT_SECONDS"),
    ({"DB_POOL_TIMEOUT_SECONDS": "soon"}, "DB_POOL_TIMEOUT_SECONDS"),
    ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"ACCESS_LOG_ENABLED": "sometimes"}, "ACCESS_LOG_ENABLED"),
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
    assert (defaults.db_pool_max_size, defaults.db_pool_timeout_seconds,
            defaults.db_statement_timeout_seconds) == (24, 5.0, 5.0)
    assert defaults.db_prepared_statements == "auto"
    given = Settings.from_env({"DB_POOL_MAX_SIZE": "40", "DB_POOL_TIMEOUT_SECONDS": "2.5",
                               "DB_STATEMENT_TIMEOUT_SECONDS": "30", "DB_PREPARED_STATEMENTS": "OFF"})
    assert (given.db_pool_max_size, given.db_pool_timeout_seconds, given.db_statement_timeout_seconds) == (
        40, 2.5, 30.0)
    assert given.db_prepared_statements == "off"


def test_wsgi_threads_follow_the_pool_unless_given():
    assert Settings.from_env({}).wsgi_threads == 96
    assert Settings.from_env({"DB_POOL_MAX_SIZE": "10"}).wsgi_threads == 40
    assert Settings.from_env({"DB_POOL_MAX_SIZE": "10", "WSGI_THREADS": "12"}).wsgi_threads == 12
    with pytest.raises(ConfigError, match="WSGI_THREADS"):
        Settings.from_env({"WSGI_THREADS": "0"})


def test_hostile_client_limits():
    defaults = Settings.from_env({})
    assert (defaults.max_tasks_per_user, defaults.list_max_items, defaults.body_read_timeout_seconds,
            defaults.write_timeout_seconds) == (10_000, 1_000, 10, 30)
    given = Settings.from_env({"MAX_TASKS_PER_USER": "50", "LIST_MAX_ITEMS": "20",
                               "BODY_READ_TIMEOUT_SECONDS": "3", "WRITE_TIMEOUT_SECONDS": "2.5"})
    assert (given.max_tasks_per_user, given.list_max_items, given.body_read_timeout_seconds,
            given.write_timeout_seconds) == (50, 20, 3, 2.5)


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
        "JWT_LEEWAY_SECONDS": "2.5", "JWKS_REFETCH_COOLDOWN_SECONDS": "30", "JWT_MAX_LIFETIME_SECONDS": "900",
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
    ({"JWT_MAX_LIFETIME_SECONDS": "forever"}, "JWT_MAX_LIFETIME_SECONDS"),
    ({"JWT_MAX_LIFETIME_SECONDS": "0"}, "JWT_MAX_LIFETIME_SECONDS"),
])
def test_jwks_mistakes_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_neither_token_source_is_a_clear_error():
    with pytest.raises(ConfigError, match="neither BETTER_AUTH_URL nor BETTER_AUTH_SECRET"):
        Settings.from_env({}).require_token_source()


@pytest.mark.parametrize("setting", [row for row in table.SETTINGS if row.formerly], ids=lambda row: row.name)
def test_a_former_name_still_works_with_a_warning(setting):
    value = {"bool": "false", "int": "120", "seconds": "120"}[setting.kind]
    with pytest.warns(FutureWarning, match=f"{setting.formerly} is now spelled {setting.name}"):
        settings = Settings.from_env({setting.formerly: value})
    assert getattr(settings, setting.attribute) == {"false": False, "120": 120}[value]
    with pytest.raises(ConfigError, match=f"^{setting.formerly} must"):  # the error names what was set
        with warnings.catch_warnings(action="ignore"):
            Settings.from_env({setting.formerly: "nonsense"})


def test_the_new_name_wins_over_the_former_without_a_warning():
    with warnings.catch_warnings(action="error"):
        settings = Settings.from_env({"DB_POOL_TIMEOUT_SECONDS": "2", "DB_POOL_TIMEOUT": "9"})
    assert settings.db_pool_timeout_seconds == 2


def test_debug_true_is_the_former_log_level_debug():
    with pytest.warns(FutureWarning, match="DEBUG=true is now spelled LOG_LEVEL=DEBUG"):
        assert Settings.from_env({"DEBUG": "true"}).log_level == "DEBUG"
    with warnings.catch_warnings(action="error"):
        assert Settings.from_env({"DEBUG": "false"}).log_level == "INFO"
        assert Settings.from_env({"DEBUG": "true", "LOG_LEVEL": "ERROR"}).log_level == "ERROR"


def test_settings_has_a_field_per_row_and_a_row_per_field():
    by_field = {field.name: field.metadata["setting"] for field in attrs.fields(Settings)}
    assert sorted(by_field) == sorted(row.attribute for row in table.SETTINGS)
    assert all(row.attribute == name for name, row in by_field.items())


@pytest.mark.parametrize("row", [row for row in table.SETTINGS if row.name != "WSGI_THREADS"],
                         ids=lambda row: row.name)
def test_each_default_is_the_table_s(row):
    assert getattr(Settings(), row.attribute) == row.default == getattr(Settings.from_env({}), row.attribute)


def test_the_core_s_limits_default_to_the_table():
    assert Limits() == Limits(table.MAX_TASKS_PER_USER.default, table.LIST_MAX_ITEMS.default,
                              table.REQUIRE_IF_MATCH.default, table.IDEMPOTENCY_KEY_TTL_SECONDS.default,
                              table.DELETIONS_KEPT_SECONDS.default, table.DELETIONS_KEPT_PER_USER.default)


def test_docs_list_every_setting_as_the_table_does(capsys):
    """docs/configuration.md holds the table `todo-api settings` prints (paste it there)."""
    assert main(["settings"]) == 0
    printed = capsys.readouterr().out
    assert printed == table.markdown_table()
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert printed in docs, "docs/configuration.md's table differs: paste `uv run todo-api settings` into it"
