"""The signing keys published as a JWKS, cached, and when to fetch them again.

The store decides; it never fetches. When a token names a key the store lacks (or the
cached set is older than `max_age`), the authenticator asks for `FetchKeys` (`core.plan`) and a
driver answers with `FetchedKeys`. Refetches are rate-limited by `cooldown`: a flood of
made-up key ids costs the Better Auth server at most one request per window. A key set
that cannot be fetched keeps the last good keys in service (stale beats down).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jwt

from core import settings_table as table
from core.logsafe import quoted
from core.plan import FetchedKeys, FetchKeys

log = logging.getLogger("todo_api")

ASYMMETRIC_ALGORITHMS = frozenset(
    {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
MAX_JWKS_BYTES = 256 * 1024


def parse_jwks(body: bytes) -> dict[str, dict[str, Any]]:
    """Signing JWKs by key id; ValueError when the document is not a usable JWKS."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document: no 'keys' list")
    keys: dict[str, dict[str, Any]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        keys[jwk["kid"]] = jwk
    return keys


class KeyStore:
    """The JWKS cache of one issuer. Mutable, shared by all requests of a process."""

    def __init__(self, url: str, max_age: float = table.JWKS_CACHE_SECONDS.default,
                 cooldown: float = table.JWKS_REFETCH_COOLDOWN_SECONDS.default) -> None:
        self.url = url
        self.max_age = max_age
        self.cooldown = cooldown
        self._jwks: dict[str, dict[str, Any]] = {}
        self._verifying_keys: dict[tuple[str, str], jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self.last_fetch_failed = False

    def wants_fetch(self, kid: str, now: float) -> bool:
        """Fetch when the key is unknown or the set is stale, unless one was tried lately."""
        fresh = self._fetched_at is not None and now - self._fetched_at < self.max_age
        if kid in self._jwks and fresh:
            return False
        return self._last_attempt is None or now - self._last_attempt >= self.cooldown

    def start_fetch(self, now: float) -> FetchKeys:
        """Claim this cooldown window before the fetch, so concurrent requests do not repeat it."""
        self._last_attempt = now
        return FetchKeys(self.url)

    def finish_fetch(self, fetched: FetchedKeys, now: float) -> set[str]:
        """Take the fetched set; return the key ids it no longer has."""
        try:
            if fetched.body is None or len(fetched.body) > MAX_JWKS_BYTES:
                raise ValueError(fetched.error or "JWKS document too large")
            keys = parse_jwks(fetched.body)
        except ValueError as error:  # includes malformed JSON and undecodable bytes
            log.warning("signing keys not fetched from %s: %s", quoted(self.url), quoted(str(error)))
            self.last_fetch_failed = True
            return set()
        removed = set(self._jwks) - set(keys)
        self._jwks = keys
        self._verifying_keys = {}
        self._fetched_at = now
        self.last_fetch_failed = False
        return removed

    def key(self, kid: str, algorithm: str) -> jwt.PyJWK | None:
        """The key to verify `algorithm` signatures with, or None when the set lacks it.

        Raises jwt.PyJWKError when the key cannot serve that algorithm (an RSA key for an
        EdDSA token, or a JWK whose own "alg" differs): the caller answers 401.
        """
        jwk = self._jwks.get(kid)
        if jwk is None:
            return None
        if jwk.get("alg", algorithm) != algorithm:
            raise jwt.PyJWKError(f"key {kid} is for {jwk['alg']}, not {algorithm}")
        cached = self._verifying_keys.get((kid, algorithm))
        if cached is None:
            try:
                cached = jwt.PyJWK(jwk, algorithm)
            except (jwt.InvalidKeyError, jwt.PyJWKError, ValueError, KeyError, TypeError) as error:
                # the key's type does not fit the algorithm, or the JWK itself is malformed
                raise jwt.PyJWKError(f"key {kid} cannot verify {algorithm}: {error}") from None
            self._verifying_keys[(kid, algorithm)] = cached
        return cached
