"""Bearer parsing and HS256 verification on their own: the message says what went wrong."""

import time

import jwt
import pytest

from core.auth import SharedSecretVerifier, authorize, bearer_token
from core.errors import ApiError
from tests.helpers import SECRET, make_token

VERIFIER = SharedSecretVerifier(SECRET, leeway_seconds=5)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Token abc", "Bearer a b"])
def test_malformed_headers_are_401(header):
    headers = {} if header is None else {"authorization": header}
    with pytest.raises(ApiError) as caught:
        bearer_token(headers)
    assert caught.value.status == 401
    assert ("WWW-Authenticate", "Bearer") in caught.value.headers


@pytest.mark.parametrize("token, message", [
    (make_token("u", exp=int(time.time()) - 60), "Token expired"),
    (make_token("u", exp=None), "Token is missing the 'exp' claim"),
    (make_token(None), "Token is missing the 'sub' claim"),
    (make_token("u", algorithm="HS384"), "Token algorithm not allowed"),
    (make_token("u", secret="z" * 64), "Token signature is invalid"),
    ("a.b.c", "Token is invalid"),
])
def test_each_rejection_says_why(token, message):
    with pytest.raises(ApiError) as caught:
        VERIFIER.verify(token)
    assert (caught.value.status, caught.value.detail) == (401, message)


def test_leeway_tolerates_small_clock_skew_only():
    assert VERIFIER.verify(make_token("u", exp=int(time.time()) - 2)) == "u"
    with pytest.raises(ApiError):
        VERIFIER.verify(make_token("u", exp=int(time.time()) - 30))


def test_unsigned_token_is_refused():
    unsigned = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(ApiError):
        VERIFIER.verify(unsigned)


def test_authorize_is_403_for_another_users_path():
    headers = {"authorization": f"Bearer {make_token('ann')}"}
    assert authorize(headers, VERIFIER, "ann") == "ann"
    with pytest.raises(ApiError) as caught:
        authorize(headers, VERIFIER, "bob")
    assert caught.value.status == 403
