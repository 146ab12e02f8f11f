"""No token, however its header and claims are shaped, gets anything but a user id or a 401.

Tokens are assembled by hand (base64url JSON, then a signature), so a header or a claim
can hold any JSON value at all: lists for `alg`, numbers for `kid`, strings for `exp`,
integers no float can hold, NaN and Infinity (which Python's JSON parser accepts), deep
nesting. Each one is signed with the shared secret, with the issuer's key, or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.auth import MAX_USER_ID_LENGTH, Authenticator, ClaimRules
from core.errors import ApiError
from core.keys import KeyStore
from core.plan import FetchedKeys
from core.token_cache import TokenCache
from tests.api.issuer import SigningKey
from tests.core.drive import an_exchange, settle
from tests.helpers import SECRET, hand_made_token, sign_with_secret

ISSUER_KEY = SigningKey("issuer-key", "ed25519")
JWKS = FetchedKeys(json.dumps({"keys": [ISSUER_KEY.jwk]}).encode())
NOW = time.time()  # at import: tokens that must stay valid live an hour past it


SIGNERS: dict[str, Callable[[bytes], bytes]] = {
    "secret": sign_with_secret,
    "issuer": ISSUER_KEY.private.sign,
    "nothing": lambda _: b"",
    "garbage": lambda _: b"not-a-signature",
}


def assemble(header: Any, claims: Any, signer: str) -> str:
    return hand_made_token(json.dumps(header), json.dumps(claims), SIGNERS[signer])


def authenticator() -> Authenticator:
    return Authenticator(
        secret=SECRET,
        keys=KeyStore("https://issuer.test/jwks"),
        jwks_rules=ClaimRules("https://issuer.test", "https://api.test"),
        cache=TokenCache(100),
    )


def outcome(auth: Authenticator, token: str) -> str | int:
    """The user id, or the error status: anything else (an exception) fails the test."""
    try:
        return settle(auth.authenticate({"authorization": f"Bearer {token}"}, an_exchange()), lambda _: JWKS)
    except ApiError as error:
        return error.status


any_json = st.recursive(
    st.none() | st.booleans() | st.text(max_size=20)
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
times = st.sampled_from([NOW + 600, NOW - 600, NOW + 10**9, int(NOW) + 60, str(int(NOW) + 60)]) | any_json
headers = st.fixed_dictionaries({}, optional={
    "alg": st.sampled_from(["HS256", "EdDSA", "RS256", "none", "HS384"]) | any_json,
    "kid": st.just(ISSUER_KEY.kid) | any_json,
    "typ": st.just("JWT") | any_json,
    "crit": any_json,
}) | any_json
claims = st.fixed_dictionaries({}, optional={
    "sub": st.sampled_from(["user", "", "a" * 256, "nul\x00", "\ud800"]) | st.text() | any_json,
    "exp": times, "nbf": times, "iat": times,
    "iss": st.just("https://issuer.test") | any_json,
    "aud": st.just("https://api.test") | st.just(["https://api.test"]) | any_json,
}) | any_json
signers = st.sampled_from(sorted(SIGNERS))


@settings(max_examples=10_000, deadline=None)
@given(header=headers, claims=claims, signer=signers)
def test_any_header_and_claims_give_a_user_id_or_401(header, claims, signer):
    result = outcome(authenticator(), assemble(header, claims, signer))
    if isinstance(result, str):
        assert 0 < len(result) <= MAX_USER_ID_LENGTH and "\x00" not in result
        result.encode("utf-8")
        assert isinstance(claims, dict) and claims["exp"] <= time.time() + 24 * 3600 + 5
    else:
        assert result == 401


@pytest.mark.parametrize("header, claims, expected", [
    ({"alg": ["HS256"]}, {"sub": "u", "exp": NOW + 3600}, 401),
    ({"alg": {"HS256": 1}}, {"sub": "u", "exp": NOW + 3600}, 401),
    ({"alg": "EdDSA", "kid": 7}, {"sub": "u", "exp": NOW + 3600}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": 10**400}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": float("inf")}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": float("nan")}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": str(int(NOW) + 60)}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": NOW + 3600, "iat": "yesterday"}, 401),
    ({"alg": "HS256"}, {"sub": "u", "exp": NOW + 3600, "nbf": 10**400}, 401),
    ({"alg": "HS256"}, {"sub": "u\x00v", "exp": NOW + 3600}, 401),
    ({"alg": "HS256"}, {"sub": "\udc00", "exp": NOW + 3600}, 401),
    ({"alg": "HS256"}, {"sub": "x" * 4000, "exp": NOW + 3600}, 401),
    ({"alg": "HS256"}, {"sub": ["u"], "exp": NOW + 3600}, 401),
    ({"alg": "HS256"}, {"sub": "x" * MAX_USER_ID_LENGTH, "exp": NOW + 3600}, "x" * MAX_USER_ID_LENGTH),
    ({"alg": "HS256"}, {"sub": "u", "exp": NOW + 25 * 3600}, 401),  # past JWT_MAX_LIFETIME_SECONDS
    ({"alg": "HS256"}, {"sub": "u", "exp": NOW + 23 * 3600}, "u"),
])
def test_known_hostile_tokens(header, claims, expected):
    assert outcome(authenticator(), assemble(header, claims, "secret")) == expected


def test_deeply_nested_json_is_401():
    nested = "[" * 5000 + "]" * 5000  # past the JSON parser's recursion limit
    assert outcome(authenticator(), hand_made_token(nested, '{"sub": "u"}')) == 401
    assert outcome(authenticator(), hand_made_token('{"alg": "HS256"}', nested)) == 401


def test_max_lifetime_is_configurable():
    auth = Authenticator(secret=SECRET, max_lifetime_seconds=600, cache=TokenCache(0))
    now = time.time()  # not NOW: minutes of other tests may have passed since the import
    assert outcome(auth, assemble({"alg": "HS256"}, {"sub": "u", "exp": now + 500}, "secret")) == "u"
    assert outcome(auth, assemble({"alg": "HS256"}, {"sub": "u", "exp": now + 700}, "secret")) == 401
