"""The Idempotency-Key header's rules, and the published pattern that states them."""

import re

import pytest

from core.errors import ApiError
from core.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, body_digest, idempotency_key
from core.openapi import HEADER_SCHEMAS


@pytest.mark.parametrize("header, key", [
    ("abc", "abc"), ('"abc"', "abc"), ("  abc  ", "abc"), ("k" * MAX_KEY_LENGTH, "k" * MAX_KEY_LENGTH),
    ("!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
])
def test_a_key_is_taken_bare_or_quoted(header, key):
    assert idempotency_key({"idempotency-key": header}) == key


@pytest.mark.parametrize("header", [
    "", '""', '"abc', 'abc"', 'a"b', "a b", "k" * (MAX_KEY_LENGTH + 1), "é", "a\x00", '"' + "k" * 256 + '"',
])
def test_anything_else_is_a_400(header):
    with pytest.raises(ApiError) as refused:
        idempotency_key({"idempotency-key": header})
    assert refused.value.status == 400


def test_no_header_is_no_key():
    assert idempotency_key({}) is None


@pytest.mark.parametrize("header", ["abc", '"abc"', 'a"b', '"abc', "a b", "k" * 256, ""])
def test_the_published_pattern_agrees_with_the_check(header):
    published = HEADER_SCHEMAS["Idempotency-Key"]["pattern"]
    assert published == f"^({KEY_PATTERN})$"
    try:
        accepted = idempotency_key({"idempotency-key": header}) is not None
    except ApiError:
        accepted = False
    assert (re.search(published, header) is not None) == accepted


def test_the_digest_tells_bodies_apart():
    assert body_digest(b"{}") == body_digest(b"{}") != body_digest(b"{ }")
