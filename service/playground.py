"""The playground at /: a page to upload a document and see its class, top-k, timings and the
cascade as it ran (each exit's confidence against its threshold), under the chosen policy and
budget beside full depth. Static assets from the package (static/playground), no library and
no request to any other host; the page calls only the public API (POST /v1/classify,
GET /v1/model), so every limit of the API applies to it. Not in the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "playground"
PREFIX = "/static/playground"
# The browser itself holds the page to the service: scripts, styles and requests from this
# origin only, images also from the upload's blob: preview (and the empty data: favicon).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}


def install_playground(app: FastAPI) -> None:
    """GET / (the page) and its assets under /static/playground."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="playground-assets")
    page = (ASSETS / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def playground() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)
