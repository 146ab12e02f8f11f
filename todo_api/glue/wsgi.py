"""Plain WSGI, for the Flask glue: the request's head as the core reads it, straight
from the environ, and the status line werkzeug would write."""

from __future__ import annotations

from typing import Any

from werkzeug.http import HTTP_STATUS_CODES


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the WSGI environ
    (where the server has already joined repeated ones)."""
    headers = {
        key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key[:5] == "HTTP_"
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def wsgi_text(value: str) -> str:
    """A WSGI path string (bytes as latin-1, PEP 3333) as the UTF-8 text werkzeug makes of it."""
    return value.encode("latin-1").decode("utf-8", "replace")


def status_line(status: int) -> str:
    """As werkzeug writes it (a server reads the number)."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"
