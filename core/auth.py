"""Who is calling: the bearer token, checked, turned into a user id.

The token's algorithm decides the key family, never the other way round: HS256 is
verified only with the shared secret, an asymmetric algorithm only with a key from the
issuer's JWKS, chosen by the token's `kid`. So an HS256 token "signed" with a public
key, or `alg: none`, has no key to be checked with and is refused.

Authentication is a generator like the handlers: when the JWKS must be (re)fetched it
yields `FetchKeys`, and the driver sends back what it got. Verified tokens are cached
until they expire.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import attrs
import jwt

from core import settings_table as table
from core.errors import ApiError, unauthorized
from core.keys import ASYMMETRIC_ALGORITHMS, KeyStore
from core.plan import FetchedKeys, FetchKeys
from core.text import Invalid, check_text
from core.token_cache import TokenCache, Verified
from core.tracing import Exchange

Authentication = Generator[FetchKeys, FetchedKeys, str]

MAX_USER_ID_LENGTH = 255


@attrs.frozen(slots=True)
class ClaimRules:
    """The `iss` and `aud` a token must carry (None: not checked)."""

    issuer: str | None = None
    audience: str | None = None

    def required(self) -> list[str]:
        return ["exp", "sub"] + ["iss"] * bool(self.issuer) + ["aud"] * bool(self.audience)


def bearer_token(headers: Mapping[str, str]) -> str:
    header = headers.get("authorization")
    if header is None:
        raise unauthorized("Not authenticated: send Authorization: Bearer <token>")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise unauthorized("Malformed Authorization header: expected Bearer <token>")
    return token


def decode_claims(
    token: str, key: Any, algorithm: str, rules: ClaimRules, leeway: float
) -> dict[str, Any]:
    """The verified claims, or a 401 that says which check failed."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=rules.issuer,
            audience=rules.audience,
            leeway=leeway,
            options={"require": rules.required(), "verify_aud": rules.audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("Token expired") from None
    except jwt.ImmatureSignatureError:
        raise unauthorized("Token is not valid yet") from None
    except jwt.MissingRequiredClaimError as error:
        raise unauthorized(f"Token is missing the '{error.claim}' claim") from None
    except jwt.InvalidIssuerError:
        raise unauthorized("Token issuer is not accepted") from None
    except jwt.InvalidAudienceError:
        raise unauthorized("Token audience is not accepted") from None
    except jwt.InvalidAlgorithmError:
        raise unauthorized("Token algorithm not allowed") from None
    except jwt.InvalidSignatureError:
        raise unauthorized("Token signature is invalid") from None
    except (jwt.InvalidTokenError, jwt.PyJWKError):
        raise unauthorized("Token is invalid") from None


def signing_header(token: str) -> tuple[str, str | None]:
    """The token's `alg` and `kid`, each of the type it must have, or a 401.

    pyjwt turns malformed JSON (deep nesting included) into its own errors, but hands
    back whatever types the header holds: `alg` may be a list.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise unauthorized("Token is invalid") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str):
        raise unauthorized("Token algorithm not allowed")
    if kid is not None and not isinstance(kid, str):
        raise unauthorized("Token key id (kid) must be a string")
    return algorithm, kid


def user_id_of(claims: Mapping[str, Any]) -> str:
    """The `sub` claim, if it can be a user id: text PostgreSQL can store, short enough
    for the index every task lookup uses."""
    try:
        subject = check_text(claims["sub"])
    except Invalid:
        subject = ""
    if not 0 < len(subject) <= MAX_USER_ID_LENGTH:
        raise unauthorized(f"Token subject must be 1 to {MAX_USER_ID_LENGTH} characters of text without NUL")
    return subject


NUMERIC_DATES = {"exp": "expiry", "nbf": "not-before time", "iat": "issue time"}


def check_numeric_dates(claims: Mapping[str, Any]) -> None:
    """Each of `exp`, `nbf` and `iat` that is present is a JSON number (RFC 7519 section 2),
    or a 401 that names it.

    pyjwt checks only that `int()` of each works and is in range, which a string of
    digits passes; Python's JSON reader also takes NaN and Infinity, which JSON has not.
    """
    for claim, meaning in NUMERIC_DATES.items():
        value = claims.get(claim)
        if claim in claims and (isinstance(value, bool) or not isinstance(value, int | float)
                                or (isinstance(value, float) and not math.isfinite(value))):
            raise unauthorized(f"Token {meaning} ({claim}) must be a number")


def expiry_of(claims: Mapping[str, Any], now: float, max_lifetime: float, leeway: float) -> float:
    """`exp` as a float, once it is known to be a number (check_numeric_dates) no further
    away than allowed: a huge integer (10**400 is valid JSON) would overflow a float, and
    a far one would make a stolen token good for years.
    """
    expires = claims["exp"]
    if expires > now + max_lifetime + leeway:
        raise unauthorized(f"Token lives longer than the {max_lifetime:g} s this API accepts")
    return float(expires)


class Authenticator:
    """Verifies bearer tokens against a shared secret, a JWKS, or both."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        keys: KeyStore | None = None,
        secret_rules: ClaimRules = ClaimRules(),
        jwks_rules: ClaimRules = ClaimRules(),
        leeway_seconds: float = table.JWT_LEEWAY_SECONDS.default,
        max_lifetime_seconds: float = table.JWT_MAX_LIFETIME_SECONDS.default,
        cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.keys = keys
        self.secret_rules = secret_rules
        self.jwks_rules = jwks_rules
        self.leeway = leeway_seconds
        self.max_lifetime = max_lifetime_seconds
        self.cache = cache if cache is not None else TokenCache()
        self.clock = clock

    def authenticate(self, headers: Mapping[str, str], exchange: Exchange) -> Authentication:
        """The verified user id (the token's `sub`), or an ApiError: 401, or 503 with no keys."""
        token = bearer_token(headers)
        now = self.clock()
        cached = self.cache.get(token, now)
        if cached is not None and cached.kid is not None and self.keys is not None:
            if self.keys.wants_fetch(cached.kid, now):  # stale keys: refresh, its key may be gone
                yield from self._refresh(now)
                cached = self.cache.get(token, now)
        if cached is not None:
            exchange.token_cache = "hit"
            exchange.token_expires_at = cached.expires_at
            return cached.user_id
        exchange.token_cache = "miss"
        algorithm, kid = signing_header(token)
        if algorithm == "HS256" and self.secret is not None:
            claims = decode_claims(token, self.secret, algorithm, self.secret_rules, self.leeway)
            kid = None
        elif algorithm in ASYMMETRIC_ALGORITHMS and self.keys is not None:
            if kid is None:
                raise unauthorized("Token has no key id (kid)")
            key = yield from self._jwks_key(kid, algorithm, now)
            claims = decode_claims(token, key, algorithm, self.jwks_rules, self.leeway)
        else:
            raise unauthorized("Token algorithm not allowed")
        check_numeric_dates(claims)
        subject = user_id_of(claims)
        expires_at = expiry_of(claims, now, self.max_lifetime, self.leeway)
        self.cache.put(token, Verified(subject, expires_at, kid))
        exchange.token_expires_at = expires_at
        return subject

    def _jwks_key(self, kid: str, algorithm: str, now: float) -> Generator[FetchKeys, FetchedKeys, Any]:
        keys = self.keys
        assert keys is not None
        if keys.wants_fetch(kid, now):
            yield from self._refresh(now)
        try:
            key = keys.key(kid, algorithm)
        except jwt.PyJWKError:
            raise unauthorized("Token algorithm does not match its key") from None
        if key is None:
            if keys.last_fetch_failed:
                retry = str(max(1, math.ceil(keys.cooldown)))
                raise ApiError(503, "Signing keys unavailable, try again shortly", (("Retry-After", retry),))
            raise unauthorized("Token signed with an unknown key")
        return key

    def _refresh(self, now: float) -> Generator[FetchKeys, FetchedKeys, None]:
        assert self.keys is not None
        fetched = yield from self.keys.start_fetch(now)
        self.cache.forget_keys(self.keys.finish_fetch(fetched, self.clock()))

    def authorize(self, headers: Mapping[str, str], path_user_id: str, exchange: Exchange) -> Authentication:
        """The verified user id; 401 without a valid token, 403 for someone else's path.
        What the check found is written into the request's `exchange` for the access log."""
        user_id = yield from self.authenticate(headers, exchange)
        exchange.user_id = user_id  # the access log names who asked, a 403 included
        if user_id != path_user_id:
            raise ApiError(403, "Access denied to this user's resources")
        return user_id
