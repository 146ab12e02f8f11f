"""Bearer parsing and token verification on their own: the message says what went wrong."""

import time

import jwt
import pytest

from core.auth import Authenticator, bearer_token
from core.errors import ApiError
from core.token_cache import TokenCache
from tests.core.drive import an_exchange, settle
from tests.helpers import SECRET, make_token


def authenticator(**kwargs) -> Authenticator:
    return Authenticator(secret=SECRET, cache=TokenCache(0), **kwargs)


def verify(auth: Authenticator, token: str) -> str:
    return settle(auth.authenticate({"authorization": f"Bearer {token}"}, an_exchange()))


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
    (make_token("u", nbf=int(time.time()) + 600), "Token is not valid yet"),
    (make_token("u", algorithm="HS384"), "Token algorithm not allowed"),
    (make_token("u", secret="z" * 64), "Token signature is invalid"),
    ("a.b.c", "Token is invalid"),
])
def test_each_rejection_says_why(token, message):
    with pytest.raises(ApiError) as caught:
        verify(authenticator(), token)
    assert (caught.value.status, caught.value.detail) == (401, message)


def test_leeway_tolerates_small_clock_skew_only():
    auth = authenticator(leeway_seconds=5)
    assert verify(auth, make_token("u", exp=int(time.time()) - 2)) == "u"
    with pytest.raises(ApiError):
        verify(auth, make_token("u", exp=int(time.time()) - 30))


def test_unsigned_token_is_refused():
    unsigned = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(ApiError):
        verify(authenticator(), unsigned)


def test_hs256_is_refused_without_a_shared_secret():
    with pytest.raises(ApiError) as caught:
        verify(Authenticator(), make_token("u"))
    assert caught.value.detail == "Token algorithm not allowed"


def test_authorize_is_403_for_another_users_path():
    headers = {"authorization": f"Bearer {make_token('ann')}"}
    auth = authenticator()
    assert settle(auth.authorize(headers, "ann", an_exchange())) == "ann"
    with pytest.raises(ApiError) as caught:
        settle(auth.authorize(headers, "bob", an_exchange()))
    assert caught.value.status == 403


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_verified_tokens_are_cached_until_exp_and_no_longer():
    clock = Clock()
    auth = Authenticator(secret=SECRET, cache=TokenCache(10), clock=clock)
    token = make_token("u", exp=int(clock.now) + 60)
    assert verify(auth, token) == "u"
    assert len(auth.cache) == 1
    auth.secret = "rotated-" + "q" * 40  # a cache hit does not check the signature again
    assert verify(auth, token) == "u"
    clock.now += 61  # past exp: the cache no longer answers, verification runs and fails
    with pytest.raises(ApiError):
        verify(auth, token)


def test_token_cache_is_bounded():
    auth = Authenticator(secret=SECRET, cache=TokenCache(3))
    for n in range(10):
        verify(auth, make_token(f"user{n}"))
    assert len(auth.cache) == 3


def test_token_cache_shared_by_threads_stays_bounded_and_raises_nothing():
    """Server threads put, expire and forget at once; the cache must neither raise nor overflow."""
    import sys
    import threading

    from core.token_cache import Verified

    cache = TokenCache(50)
    errors: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            for n in range(3000):
                token = f"{worker}-{n}"
                cache.put(token, Verified(token, expires_at=float(n % 7), kid=f"k{n % 3}"))
                cache.get(f"{worker}-{n - 5}", now=3.0)
                if n % 100 == 0:
                    cache.forget_keys({"k1"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=churn, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(cache) <= 50
