"""The JWKS cache's decisions, with a hand-driven clock: when to fetch, what to keep."""

import json

import jwt
import pytest

from core.keys import KeyStore, parse_jwks
from core.plan import FetchedKeys
from tests.api.issuer import SigningKey

ED = SigningKey("ed", "ed25519")
RSA = SigningKey("rsa", "rsa")


def document(*keys: SigningKey) -> FetchedKeys:
    return FetchedKeys(json.dumps({"keys": [k.jwk for k in keys]}).encode())


def test_unknown_kid_fetches_once_per_cooldown():
    store = KeyStore("u", max_age=300, cooldown=10)
    assert store.wants_fetch("ed", now=0)
    store.start_fetch(0)
    store.finish_fetch(document(ED), 0)
    assert not store.wants_fetch("ed", now=5)
    assert not store.wants_fetch("made-up", now=5)  # inside the window
    assert store.wants_fetch("made-up", now=10)


def test_stale_keys_are_refreshed_and_withdrawn_keys_reported():
    store = KeyStore("u", max_age=60, cooldown=1)
    store.start_fetch(0)
    store.finish_fetch(document(ED, RSA), 0)
    assert store.wants_fetch("ed", now=61)
    store.start_fetch(61)
    assert store.finish_fetch(document(ED), 61) == {"rsa"}
    assert store.key("rsa", "RS256") is None


def test_failed_fetch_keeps_the_last_good_keys():
    store = KeyStore("u", max_age=60, cooldown=1)
    store.finish_fetch(document(ED), 0)
    store.finish_fetch(FetchedKeys(None, "refused"), 70)
    assert store.last_fetch_failed
    assert store.key("ed", "EdDSA") is not None


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"keys": 1}', b"\xff"])
def test_malformed_documents_count_as_failures(body):
    store = KeyStore("u")
    store.finish_fetch(FetchedKeys(body), 0)
    assert store.last_fetch_failed


def test_a_key_serves_only_algorithms_of_its_family():
    store = KeyStore("u")
    store.finish_fetch(document(ED, RSA), 0)
    assert store.key("rsa", "PS256") is not None
    for kid, algorithm in [("ed", "RS256"), ("rsa", "EdDSA"), ("rsa", "ES256")]:
        with pytest.raises(jwt.PyJWKError):
            store.key(kid, algorithm)


def test_only_signing_keys_with_ids_are_kept():
    body = json.dumps({"keys": [{**ED.jwk, "use": "enc"}, {k: v for k, v in RSA.jwk.items() if k != "kid"},
                                "junk", SigningKey("ok", "p256").jwk]}).encode()
    assert list(parse_jwks(body)) == ["ok"]
