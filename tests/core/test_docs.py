"""/openapi.json and /docs as the core answers them, without a framework."""

import json

from core import Api, Request
from core.auth import Authenticator
from core.docs import PAGE
from tests.core.drive import drive
from tests.helpers import SECRET

ASSETS = {"swagger-ui.css": b"css", "swagger-ui-bundle.js": b"js"}
API = Api(Authenticator(secret=SECRET), docs_assets=ASSETS)


def get(path, base_path=""):
    response, asked = drive(API.handle(Request("GET", path, b"", {}, b"", base_path)))
    assert asked == []  # documentation never reaches the database
    return response


def headers(response):
    return {name.lower(): value for name, value in response.headers}


def test_the_document_names_the_mount_point_as_its_server():
    assert json.loads(get("/openapi.json").body)["servers"] == [{"url": "/"}]
    assert json.loads(get("/openapi.json", "/todo").body)["servers"] == [{"url": "/todo"}]


def test_the_page_and_its_files():
    page = get("/docs")
    assert (page.status, page.body) == (200, PAGE)
    assert headers(page)["content-type"].startswith("text/html")
    css = get("/docs/swagger-ui.css")
    assert (css.status, css.body, headers(css)["content-type"]) == (200, b"css", "text/css; charset=utf-8")
    assert b"openapi.json" in get("/docs/init.js").body


def test_no_other_file_is_served():
    for name in ["index.html", "..%2Fsecret", "swagger-ui.css.map", ""]:
        assert get(f"/docs/{name}").status == 404


def test_without_assets_there_are_no_docs_routes():
    bare = Api(Authenticator(secret=SECRET))
    response, _ = drive(bare.handle(Request("GET", "/docs", b"", {}, b"")))
    assert response.status == 404
