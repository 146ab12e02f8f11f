"""The zero-configuration mode: an embedded database and a generated development secret."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import attrs
import jwt

from storage.embedded import EmbeddedDatabase, start_embedded
from todo_api.config.settings import Settings

DEV_USER = "dev-user"


def dev_secret(data_dir: Path) -> str:
    """The development secret kept beside the embedded data, made on first use."""
    path = data_dir / "dev-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def make_token(secret: str, user_id: str, ttl_seconds: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def resolve(
    settings: Settings, verifies_tokens: bool = True
) -> tuple[Settings, EmbeddedDatabase | None, bool]:
    """Fill in what dev mode provides: the database when no DATABASE_URL, then the secret
    (only for a command that verifies tokens: `migrate` needs the database alone).

    Returns the completed settings, the embedded database if one was started (the
    caller stops it), and whether the secret is a generated development one.
    """
    if settings.database_url:
        if verifies_tokens:
            settings.require_token_source()
        return settings, None, False
    database = start_embedded(settings.data_dir)
    with_database = attrs.evolve(settings, database_url=database.url)
    if not verifies_tokens:
        return with_database, database, False
    generated = settings.better_auth_secret is None
    secret = dev_secret(settings.data_dir) if generated else settings.better_auth_secret
    return attrs.evolve(with_database, better_auth_secret=secret), database, generated
