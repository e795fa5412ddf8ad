"""The playground at / (service/playground.py): an HTML page on the package's own assets, which
name no other host, kept out of the OpenAPI document."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from service.playground import ASSETS, PREFIX

REF = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
URL = re.compile(r"""(?:https?|wss?):/{2}[^\s"'`)<>]*""", re.IGNORECASE)
TYPES = {
    "playground.js": "text/javascript",
    "playground.css": "text/css",
    "index.html": "text/html",
}


def test_the_page_loads_only_its_own_assets(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-request-id"]  # the middleware stamps it as on every answer
    assets = [ref for ref in REF.findall(r.text) if not ref.startswith(("/docs", "/redoc"))]
    assert sorted(assets) == ["/static/playground/playground.css",
                              "/static/playground/playground.js", "data:,"]  # fmt: skip
    for name in ("playground.js", "playground.css", "index.html"):
        got = client.get(f"{PREFIX}/{name}")
        assert got.status_code == 200, name
        assert got.headers["content-type"].split(";")[0] == TYPES[name], name
        assert got.content == (ASSETS / name).read_bytes(), name


def test_no_file_names_another_host() -> None:
    files = sorted(ASSETS.iterdir())
    assert {f.name for f in files} == set(TYPES)
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert URL.findall(text) == [], f.name
        assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?//""", text), f.name


def test_the_page_calls_only_the_public_api() -> None:
    script = (ASSETS / "playground.js").read_text(encoding="utf-8")
    assert sorted(set(re.findall(r"""fetch\(\s*["'`]([^"'`]+)""", script))) == [
        "/v1/classify",
        "/v1/model",
    ]
    assert "/admin" not in script


def test_the_page_is_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(p.startswith(PREFIX) for p in paths)


def test_an_unknown_path_is_still_a_problem(client: TestClient) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{PREFIX}/missing.js").status_code == 404
