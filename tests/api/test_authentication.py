"""401 for every kind of bad token, 403 for another user's path, on every /api route."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.clients import request
from tests.helpers import SECRET, hand_made_token, make_token

PROTECTED = [
    ("GET", "/tasks"),
    ("POST", "/tasks"),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("PUT", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/tasks/00000000-0000-0000-0000-000000000000/complete"),
    ("GET", "/stats"),
]


def unsigned_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id, "exp": int(time.time()) + 60}, None, algorithm="none")


def rs256_token(user_id: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": user_id, "exp": int(time.time()) + 60}, key, algorithm="RS256")


def bad_authorizations(user_id: str) -> dict[str, str | None]:
    good = make_token(user_id)
    head, payload, signature = good.split(".")
    return {
        "no header": None,
        "empty header": "",
        "not bearer": f"Basic {good}",
        "bearer without token": "Bearer",
        "token with spaces": f"Bearer {good} extra",
        "garbage": "Bearer not-a-jwt",
        "wrong secret": f"Bearer {make_token(user_id, secret='another-secret-' + 'y' * 60)}",
        "tampered signature": f"Bearer {head}.{payload}.{signature[:-4]}AAAA",
        "expired": f"Bearer {make_token(user_id, exp=int(time.time()) - 3600)}",
        "no exp": f"Bearer {make_token(user_id, exp=None)}",
        "no sub": f"Bearer {make_token(None)}",
        "empty sub": f"Bearer {make_token('')}",
        "numeric sub": f"Bearer {make_token(12345)}",
        "not yet valid": f"Bearer {make_token(user_id, nbf=int(time.time()) + 3600)}",
        "alg none": f"Bearer {unsigned_token(user_id)}",
        "alg HS512": f"Bearer {make_token(user_id, algorithm='HS512')}",
        "alg RS256": f"Bearer {rs256_token(user_id)}",
        **{f"hostile: {name}": f"Bearer {token}" for name, token in hostile_tokens(user_id).items()},
    }


def hostile_tokens(user_id: str) -> dict[str, str]:
    """Signed with the right secret, but shaped to break a careless verifier."""
    soon = int(time.time()) + 60
    tokens = {
        "alg is a list": ('{"alg": ["HS256"]}', f'{{"sub": "{user_id}", "exp": {soon}}}'),
        "kid is a number": ('{"alg": "HS256", "kid": 7}', f'{{"sub": "{user_id}", "exp": {soon}}}'),
        "exp is 10**400": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": 1{"0" * 400}}}'),
        "exp is a string": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": "{soon}"}}'),
        "nbf is a string": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": {soon}, "nbf": "0"}}'),
        "iat is a string": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": {soon}, "iat": "0"}}'),
        "nbf is true": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": {soon}, "nbf": true}}'),
        "iat is NaN": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": {soon}, "iat": NaN}}'),
        "exp is Infinity": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": Infinity}}'),
        "exp in ten years": ('{"alg": "HS256"}', f'{{"sub": "{user_id}", "exp": {soon + 10 * 365 * 86400}}}'),
        "sub holds NUL": ('{"alg": "HS256"}', f'{{"sub": "{user_id}\\u0000", "exp": {soon}}}'),
        "sub of 4,000 characters": ('{"alg": "HS256"}', f'{{"sub": "{"x" * 4000}", "exp": {soon}}}'),
        "deep nesting": ('{"alg": "HS256"}', "[" * 5000 + "]" * 5000),
    }
    return {name: hand_made_token(header, claims) for name, (header, claims) in tokens.items()}


@pytest.mark.parametrize("kind", list(bad_authorizations("u")))
def test_bad_tokens_are_401_with_www_authenticate(client, user, kind):
    authorization = bad_authorizations(user.id)[kind]
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, suffix in PROTECTED:
        result = request(client, method, f"/api/{user.id}{suffix}", headers=headers, json={})
        assert result.status == 401, (kind, method, suffix, result.body)
        assert result.header("www-authenticate") == "Bearer"
        assert isinstance(result.json()["detail"], str)


@pytest.mark.parametrize("claim, meaning", [("nbf", "not-before time"), ("iat", "issue time")])
def test_a_numeric_date_given_as_text_is_401_and_says_which(client, user, claim, meaning):
    """RFC 7519 section 2: every NumericDate is a JSON number; pyjwt only tries int() on it."""
    soon = int(time.time()) + 60
    token = hand_made_token('{"alg": "HS256"}', f'{{"sub": "{user.id}", "exp": {soon}, "{claim}": "0"}}')
    result = request(client, "GET", user.tasks, headers={"Authorization": f"Bearer {token}"})
    assert (result.status, result.json()) == (401, {"detail": f"Token {meaning} ({claim}) must be a number"})
    numeric = hand_made_token('{"alg": "HS256"}', f'{{"sub": "{user.id}", "exp": {soon}, "{claim}": 0}}')
    assert request(client, "GET", user.tasks, headers={"Authorization": f"Bearer {numeric}"}).status == 200


def test_expired_token_says_so(client, user):
    headers = {"Authorization": f"Bearer {make_token(user.id, exp=int(time.time()) - 3600)}"}
    result = request(client, "GET", user.tasks, headers=headers)
    assert result.json() == {"detail": "Token expired"}


def test_scheme_is_case_insensitive(client, user):
    headers = {"Authorization": f"bearer {make_token(user.id)}"}
    assert request(client, "GET", user.tasks, headers=headers).status == 200


def test_another_users_path_is_403(client, user):
    other = make_token("someone-else")
    for method, suffix in PROTECTED:
        result = request(client, method, f"/api/{user.id}{suffix}",
                         headers={"Authorization": f"Bearer {other}"}, json={})
        assert result.status == 403, (method, suffix)
        assert result.json() == {"detail": "Access denied to this user's resources"}


def test_valid_token_is_accepted(client, user):
    assert request(client, "GET", user.tasks, headers=user.headers).status == 200
    assert SECRET  # the suite's secret signs user.headers


@pytest.mark.parametrize("second", ["same", "other user's"])
def test_two_authorization_headers_are_401_whichever_they_are(client, user, second):
    """WSGI joins repeated headers and ASGI lists them; the core sees them joined either way."""
    other = user.headers["Authorization"] if second == "same" else f"Bearer {make_token('someone-else')}"
    result = request(client, "GET", user.tasks, headers=[("Authorization", user.headers["Authorization"]),
                                                         ("Authorization", other)])
    assert result.status == 401
