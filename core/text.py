"""Text a client sends that PostgreSQL must store: checked once, for task fields and
token subjects alike."""

from __future__ import annotations

from typing import Any


class Invalid(Exception):
    """One field's value is unacceptable; carries the problem's type code and message."""

    def __init__(self, type_: str, msg: str) -> None:
        super().__init__(msg)
        self.type = type_
        self.msg = msg


def check_text(value: Any) -> str:
    """A JSON string that PostgreSQL can store (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise Invalid("string_type", "Input should be a string")
    if "\x00" in value:
        raise Invalid("string_nul", "Text must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("string_unicode", "Text must be valid Unicode (no lone surrogates)") from None
    return value
