"""Tokens signed by a Better Auth-style issuer and verified through its JWKS, on both frontends."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.api.clients import Call, request
from tests.api.issuer import Issuer, SigningKey, b64, hs256_with_key_material
from tests.helpers import SECRET, new_user_id

COOLDOWN = 1.0


@pytest.fixture
def issuer():
    made = Issuer()
    yield made
    made.close()


@pytest.fixture
def keys(issuer):
    return {kind: issuer.publish(SigningKey(f"kid-{kind}", kind)) for kind in ["ed25519", "p256", "rsa"]}


@pytest.fixture
def api(frontend_factory, client, issuer):
    """A frontend that trusts the issuer's JWKS, and the shared secret too."""
    return frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=COOLDOWN)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tasks_of(user_id: str) -> str:
    return f"/api/{user_id}/tasks"


@pytest.mark.parametrize("kind, algorithm", [
    ("ed25519", "EdDSA"), ("p256", "ES256"), ("rsa", "RS256"), ("rsa", "PS256"),
])
def test_tokens_from_each_key_type_are_accepted(api, issuer, keys, kind, algorithm):
    user = new_user_id()
    token = issuer.sign(keys[kind], user, algorithm)
    assert request(api, "GET", tasks_of(user), headers=bearer(token)).status == 200
    created = request(api, "POST", tasks_of(user), headers=bearer(token),
                      json={"title": "via JWKS", "priority": "low", "category": "work"})
    assert created.status == 201
    assert created.json()["userId"] == user
    assert request(api, "GET", tasks_of("someone-else"), headers=bearer(token)).status == 403


def test_shared_secret_tokens_still_work_beside_jwks(api):
    from tests.helpers import auth

    user = new_user_id()
    assert request(api, "GET", tasks_of(user), headers=auth(user)).status == 200


def forged_tokens(issuer: Issuer, keys: dict[str, SigningKey], user: str) -> dict[str, str]:
    ed, rsa_key = keys["ed25519"], keys["rsa"]
    good = issuer.sign(ed, user)
    head, payload, signature = good.split(".")
    raw_x = base64.urlsafe_b64decode(ed.jwk["x"] + "==")
    now = int(time.time())
    return {
        "hs256 keyed with the RSA public PEM": hs256_with_key_material(rsa_key.public_pem(), rsa_key.kid, user, issuer.url),
        "hs256 keyed with the Ed25519 public key": hs256_with_key_material(raw_x, ed.kid, user, issuer.url),
        "alg none": f"{b64(json.dumps({'alg': 'none', 'kid': ed.kid}).encode())}.{payload}.",
        "unknown kid": issuer.sign(SigningKey("kid-unpublished", "ed25519"), user),
        "no kid": issuer.sign(ed, user, kid=None),
        "tampered signature": f"{head}.{payload}.{signature[:-6]}AAAAAA",
        "tampered payload": f"{head}.{payload[:-4]}AAAA.{signature}",
        "wrong issuer": issuer.sign(ed, user, iss="https://evil.example"),
        "wrong audience": issuer.sign(ed, user, aud="https://other-service.example"),
        "no issuer": issuer.sign(ed, user, iss=None),
        "no audience": issuer.sign(ed, user, aud=None),
        "future nbf": issuer.sign(ed, user, nbf=now + 3600),
        "expired": issuer.sign(ed, user, exp=now - 3600),
        "no sub": issuer.sign(ed, None),
        "no exp": issuer.sign(ed, user, exp=None),
        "EdDSA token naming the RSA key": issuer.sign(ed, user, kid=rsa_key.kid),
        "RS256 token naming the EC key": issuer.sign(rsa_key, user, "RS256", kid=keys["p256"].kid),
    }


FORGERIES = [
    "hs256 keyed with the RSA public PEM", "hs256 keyed with the Ed25519 public key", "alg none",
    "unknown kid", "no kid", "tampered signature", "tampered payload", "wrong issuer", "wrong audience",
    "no issuer", "no audience", "future nbf", "expired", "no sub", "no exp",
    "EdDSA token naming the RSA key", "RS256 token naming the EC key",
]


@pytest.mark.parametrize("case", FORGERIES)
def test_forged_and_invalid_tokens_are_401(api, issuer, keys, case):
    user = new_user_id()
    forgeries = forged_tokens(issuer, keys, user)
    assert sorted(forgeries) == sorted(FORGERIES)
    token = forgeries[case]
    result = request(api, "GET", tasks_of(user), headers=bearer(token))
    assert result.status == 401, (case, result.body)
    assert result.header("www-authenticate") == "Bearer"


def test_confusion_fails_without_a_shared_secret_too(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, better_auth_secret=None)
    user = new_user_id()
    rsa_key = keys["rsa"]
    forged = hs256_with_key_material(rsa_key.public_pem(), rsa_key.kid, user, issuer.url)
    assert request(api, "GET", tasks_of(user), headers=bearer(forged)).status == 401
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user))).status == 200


def test_a_rotated_in_key_is_accepted_once_published(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=0)
    user = new_user_id()
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user))).status == 200
    rotated = SigningKey("kid-rotated", "ed25519")
    early = issuer.sign(rotated, user)
    assert request(api, "GET", tasks_of(user), headers=bearer(early)).status == 401  # not published yet
    issuer.publish(rotated)
    assert request(api, "GET", tasks_of(user), headers=bearer(early)).status == 200


def test_a_withdrawn_key_stops_working_at_the_next_refresh(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_cache_seconds=1,
                           jwks_refetch_cooldown_seconds=0)
    user = new_user_id()
    token = issuer.sign(keys["p256"], user)
    assert request(api, "GET", tasks_of(user), headers=bearer(token)).status == 200
    assert request(api, "GET", tasks_of(user), headers=bearer(token)).status == 200  # cached
    issuer.withdraw(keys["p256"])
    time.sleep(1.1)  # the cached key set is now stale: the next request refreshes it
    assert request(api, "GET", tasks_of(user), headers=bearer(token)).status == 401
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user))).status == 200


def test_made_up_kids_cost_at_most_one_fetch_per_cooldown(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=30)
    user = new_user_id()
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user))).status == 200
    assert issuer.fetches == 1
    flood = [Call("GET", tasks_of(user), bearer(issuer.sign(SigningKey(f"made-up-{n}", "ed25519"), user)))
             for n in range(25)]
    assert {r.status for r in api.many(flood)} == {401}
    assert issuer.fetches == 1  # the first fetch opened the window; none of the flood got another


def test_a_flood_before_any_fetch_fetches_once(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=30)
    user = new_user_id()
    flood = [Call("GET", tasks_of(user), bearer(issuer.sign(SigningKey(f"made-up-{n}", "ed25519"), user)))
             for n in range(25)]
    assert {r.status for r in api.many(flood)} == {401}
    assert issuer.fetches == 1


def test_jwks_down_is_503_then_recovers(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_refetch_cooldown_seconds=COOLDOWN)
    user = new_user_id()
    token = issuer.sign(keys["ed25519"], user)
    issuer.down = True
    result = request(api, "GET", tasks_of(user), headers=bearer(token))
    assert result.status == 503
    assert result.header("retry-after") == "1"
    assert result.json() == {"detail": "Signing keys unavailable, try again shortly"}
    issuer.down = False
    time.sleep(COOLDOWN + 0.1)
    assert request(api, "GET", tasks_of(user), headers=bearer(token)).status == 200


def test_cached_keys_keep_working_while_the_jwks_is_down(frontend_factory, client, issuer, keys):
    api = frontend_factory(client.name, better_auth_url=issuer.url, jwks_cache_seconds=1,
                           jwks_refetch_cooldown_seconds=0)
    user = new_user_id()
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user))).status == 200
    issuer.down = True
    time.sleep(1.1)  # stale: the next request tries to refresh, fails, and keeps the last good keys
    fresh_token = issuer.sign(keys["ed25519"], user, iat=int(time.time()) + 1)
    assert request(api, "GET", tasks_of(user), headers=bearer(fresh_token)).status == 200
    assert issuer.fetches >= 2


def test_unreachable_jwks_is_503(frontend_factory, client, keys, issuer):
    from tests.api.test_database_down import closed_port

    api = frontend_factory(client.name, jwks_url=f"http://127.0.0.1:{closed_port()}/jwks",
                           jwt_issuer=issuer.url, jwt_audience=issuer.url)
    user = new_user_id()
    assert request(api, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["rsa"], user))).status == 503


def test_secret_only_deployments_refuse_asymmetric_tokens(api, client, frontend_factory, issuer, keys):
    secret_only = frontend_factory(client.name)
    user = new_user_id()
    result = request(secret_only, "GET", tasks_of(user), headers=bearer(issuer.sign(keys["ed25519"], user)))
    assert result.status == 401
    assert SECRET
