"""Configuration parsing: defaults, .env syntax, and one clear line per mistake."""

import pytest

from todo_api.settings import ConfigError, Settings, parse_dotenv

SECRET = "s" * 32


def test_defaults():
    settings = Settings.from_env({})
    assert settings.cors_origins == ("http://localhost:3000",)
    assert (settings.api_host, settings.api_port, settings.debug) == ("127.0.0.1", 8000, False)
    assert settings.database_url is None


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
])
def test_mistakes_name_the_variable(env, names):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


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
