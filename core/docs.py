"""The API's own documentation: `/openapi.json` (built by `core.openapi`) and `/docs`,
Swagger UI served from files the frontends load from an installed package and hand
over as bytes (no CDN: the page works offline and behind a strict network)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from core.errors import not_found
from core.http import Response, raw_json_response
from core.openapi import openapi_document
from core.routes import Context, Operation, Route

ASSET_TYPES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
}
"""The files `/docs/{asset}` serves: Swagger UI's two, and the script that starts it."""

PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Todo API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""
"""Relative links, so the page works wherever the API is mounted."""

INIT_JS = b"""window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
});
"""

KEPT_DOCUMENTS = 8
"""Documents kept rendered, one per mount point (`servers` differs): a handful at most."""


def document_bytes(document: object) -> bytes:
    """The form both the served document and the committed `openapi.json` take."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"


def docs_routes(documented: tuple[Route, ...], assets: Mapping[str, bytes]) -> tuple[Route, ...]:
    """The documentation's routes for an API of `documented` routes; `assets` holds
    Swagger UI's files by name (ASSET_TYPES)."""
    files = {**assets, "init.js": INIT_JS}
    rendered: dict[str, bytes] = {}

    def openapi_json(ctx: Context) -> Response:
        base = ctx.request.base_path
        if base not in rendered:
            if len(rendered) >= KEPT_DOCUMENTS:
                rendered.clear()
            rendered[base] = document_bytes(openapi_document(documented, base))
        return raw_json_response(200, rendered[base])

    def page(ctx: Context) -> Response:
        return Response(200, (("Content-Type", "text/html; charset=utf-8"),), PAGE)

    def asset(ctx: Context) -> Response:
        name = ctx.params["asset"]
        if name not in ASSET_TYPES or name not in files:
            raise not_found()
        headers = (("Content-Type", ASSET_TYPES[name]), ("Cache-Control", "public, max-age=3600"))
        return Response(200, headers, files[name])

    def meta(handler: object, name: str, summary: str) -> Mapping[str, Operation]:
        return {"GET": Operation(handler, name, summary, {200: None}, uses_database=False)}  # type: ignore[arg-type]

    public = {"authenticated": False, "documented": False}
    return (
        Route("/openapi.json", meta(openapi_json, "openapi", "This document"), **public),
        Route("/docs", meta(page, "docs", "The docs page"), **public),
        Route("/docs/{asset}", meta(asset, "docsAsset", "The docs page's files"), **public),
    )
