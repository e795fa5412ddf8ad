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

from models.batch_errors import BatcherClosedError

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
    429: ("too-many-requests", "Too many requests"),
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


def locked_out(detail: str, retry_after_s: int) -> ProblemError:
    return ProblemError(
        429,
        "too-many-requests",
        "Too many requests",
        detail,
        headers={"Retry-After": str(retry_after_s)},
    )


def overloaded(
    retry_after_s: int, detail: str = "every worker is busy and the queue is full; retry later"
) -> ProblemError:
    return ProblemError(
        503,
        "overloaded",
        "Service overloaded",
        detail,
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


# Starlette's form parser answers a text field over 1 MiB, or too many parts, with a bare 400
# and one of these messages (it has no exception type of its own by then): they are requests over
# a size limit, as an upload over its own is, so they answer 413 as well.
FORM_LIMIT_ERRORS = (
    "Part exceeded maximum size",
    "Field exceeded maximum size",
    "Too many files",
    "Too many fields",
)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ProblemError):
        return problem_response(
            request, exc.status_code, exc.slug, exc.title, str(exc.detail), exc.headers, exc.errors
        )
    status = exc.status_code
    if status == 400 and str(exc.detail).startswith(FORM_LIMIT_ERRORS):
        status = 413
    slug, title = GENERIC.get(status, ("http-error", "HTTP error"))
    return problem_response(request, status, slug, title, str(exc.detail), exc.headers)


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


async def _shutting_down(request: Request, exc: Exception) -> JSONResponse:
    # A page that reached the batcher after it closed: the process is on its way out.
    assert isinstance(exc, BatcherClosedError)
    problem = not_ready("the service is shutting down; retry (another replica will answer)")
    return await _http_error(request, problem)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log, never to the client.
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal", "Internal server error", "an unexpected error; see server logs"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BatcherClosedError, _shutting_down)
    app.add_exception_handler(Exception, _unexpected)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # responses() names Problem by $ref only (see there), so its schema is added here.
        schema = app.openapi_schema or build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Problem", Problem.model_json_schema(mode="serialization"))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


# Headers that every answer of a status carries (the ProblemError factories above set them).
_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "the scheme to authenticate with: Bearer"},
    429: {"Retry-After": "seconds to wait before trying again"},
    503: {"Retry-After": "seconds to wait before trying again"},
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, all as problem+json (only:
    a `model` here would make FastAPI document application/json as well, which no error is)."""
    entries: dict[int | str, dict[str, Any]] = {}
    for s in statuses:
        entry: dict[str, Any] = {
            "description": GENERIC.get(s, ("", "Error"))[1],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if s in _HEADERS:
            entry["headers"] = {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in _HEADERS[s].items()
            }
        entries[s] = entry
    return entries
