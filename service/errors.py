"""Every error the service answers, mapped in one place to RFC 9457 problem details
(application/problem+json with type, title, status, detail)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("docexit.service")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:docexit:problem:"

# status -> (type slug, title) for errors raised without a more specific ProblemError.
GENERIC = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "Upload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-request", "Invalid request"),
    500: ("internal", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response of this service carries them."""

    type: str = Field(examples=[TYPE_BASE + "too-large"])
    title: str = Field(examples=["Upload too large"])
    status: int = Field(examples=[413])
    detail: str = Field(examples=["the upload is 31457280 bytes; the limit is 20971520"])
    instance: str | None = Field(default=None, description="the request path")
    errors: list[dict[str, Any]] | None = Field(default=None, description="field errors (422 only)")


class ProblemError(StarletteHTTPException):
    """Raised anywhere in the service; a subclass of Starlette's HTTPException so that FastAPI's
    body parsing lets it through unchanged."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.slug, self.title, self.errors = slug, title, errors


def too_large(detail: str) -> ProblemError:
    return ProblemError(413, "too-large", "Upload too large", detail)


def unsupported(detail: str) -> ProblemError:
    return ProblemError(415, "unsupported-media-type", "Unsupported media type", detail)


def undecodable(detail: str) -> ProblemError:
    return ProblemError(422, "undecodable", "Upload cannot be decoded", detail)


def invalid(detail: str, errors: list[dict[str, Any]] | None = None) -> ProblemError:
    return ProblemError(422, "invalid-request", "Invalid request", detail, errors=errors)


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
    )


def overloaded(retry_after_s: int) -> ProblemError:
    return ProblemError(
        503,
        "overloaded",
        "Service overloaded",
        "every worker is busy and the queue is full; retry later",
        headers={"Retry-After": str(retry_after_s)},
    )


def not_ready(detail: str) -> ProblemError:
    return ProblemError(503, "not-ready", "Service not ready", detail, headers={"Retry-After": "5"})


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type=PROBLEM_JSON,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ProblemError):
        return problem_response(
            request, exc.status_code, exc.slug, exc.title, str(exc.detail), exc.headers, exc.errors
        )
    slug, title = GENERIC.get(exc.status_code, ("http-error", "HTTP error"))
    return problem_response(request, exc.status_code, slug, title, str(exc.detail), exc.headers)


def _jsonable(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without their raw inputs: an upload's bytes do not belong in a reply."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in errors
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _jsonable(exc.errors())
    where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return problem_response(
        request, 422, "invalid-request", "Invalid request", where or "invalid request", None, errors
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log, never to the client.
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal", "Internal server error", "an unexpected error; see server logs"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, all as problem+json."""
    return {
        s: {
            "model": Problem,
            "description": GENERIC.get(s, ("", "Error"))[1],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
