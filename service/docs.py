"""The API's documentation pages, served with no request outside the service: Swagger UI at
/docs and ReDoc at /redoc load their scripts and styles from the package (static/docs, with
their licences and hashes), not from a CDN, since document intake often runs where nothing
else is reachable. Also documents the X-Request-ID header every operation takes and returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "docs"
PREFIX = "/static/docs"
REQUEST_ID = "X-Request-ID"
REQUEST_ID_TEXT = (
    "Your id for this request (1-128 of A-Z a-z 0-9 . _ -), echoed in the response and written "
    "to the logs; without one (or with one that does not fit) the service mints one."
)


def install_docs(app: FastAPI) -> None:
    """/docs and /redoc on the package's own assets; the app must be built with docs_url and
    redoc_url None."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=title,
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # its default asks an outside host
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=str(app.openapi_url),
            title=title,
            redoc_js_url=f"{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/favicon.png",
            with_google_fonts=False,
        )

    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema or build()
        _document_request_id(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def _document_request_id(schema: dict[str, Any]) -> None:
    """X-Request-ID on every operation: a header it takes and one every response carries (the
    RequestContext middleware does both, outside the routes). Idempotent."""
    # No pattern: an id that does not fit is not an error, the service mints one instead.
    header = {"type": "string"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == REQUEST_ID for p in parameters):
                parameters.append(
                    {
                        "name": REQUEST_ID,
                        "in": "header",
                        "required": False,
                        "description": REQUEST_ID_TEXT,
                        "schema": header,
                    }  # fmt: skip
                )
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})[REQUEST_ID] = {
                    "description": "the request's id (yours, or minted)",
                    "required": True,
                    "schema": {"type": "string"},
                }
