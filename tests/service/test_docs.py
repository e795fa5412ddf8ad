"""The API documentation pages work offline (service/docs.py): /docs and /redoc load only the
package's own assets, which are the recorded npm files, and the OpenAPI document describes
X-Request-ID on every operation."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from service.docs import ASSETS, PREFIX, REQUEST_ID

ASSET_REF = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def references(html: str) -> list[str]:
    return [a or b for a, b in ASSET_REF.findall(html)]


def test_docs_and_redoc_load_only_the_services_own_assets(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        refs = references(r.text)
        assert refs, page
        for ref in refs:
            assert ref.startswith("/"), (page, ref)  # same origin: no CDN, no fonts host
            got = client.get(ref)
            assert got.status_code == 200 and got.content, ref
        assert "http://" not in r.text and "https://" not in r.text, page
    swagger = client.get("/docs").text
    assert f"{PREFIX}/swagger-ui-bundle.js" in swagger and '"validatorUrl": null' in swagger


def test_the_assets_are_the_recorded_files() -> None:
    table = (ASSETS / "README.md").read_text()
    rows = re.findall(r"^\| (\S+) \| .* \| ([0-9a-f]{64}) \|$", table, re.MULTILINE)
    assert {name for name, _ in rows} == {"swagger-ui-bundle.js", "swagger-ui.css",
                                          "favicon.png", "redoc.standalone.js"}  # fmt: skip
    for name, digest in rows:
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for licence in ("LICENSE.swagger-ui", "LICENSE.redoc"):
        assert (ASSETS / licence).stat().st_size > 500


def test_every_operation_documents_x_request_id(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 10
    for op in operations:
        names = [p["name"] for p in op.get("parameters", [])]
        assert names.count(REQUEST_ID) == 1, op.get("operationId")
        for response in op["responses"].values():
            assert REQUEST_ID in response["headers"]
    answered = client.get("/healthz", headers={REQUEST_ID: "abc-123"})
    assert answered.headers[REQUEST_ID] == "abc-123"
