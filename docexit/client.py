"""A thin HTTP client for the docexit service, sync (Client) and async (AsyncClient), on httpx.

It imports neither torch nor the service, so a batch job starts in a fraction of a second. Both
clients retry the same way (RetryPolicy): a 503 or 429 after the seconds its Retry-After asks
for, a connection that fails (the service restarting) with exponential backoff; either stops once
the waits would pass `max_wait_s`, raising UnavailableError. Any other error answer raises
ProblemError with the RFC 9457 problem details the service sends."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
# The service sniffs the format from the bytes; the type only labels the upload in logs.
CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".pdf": "application/pdf",
}
RETRY_STATUSES = frozenset({429, 503})
# The connection failed or broke before an answer: a restarting server, a dropped keep-alive
# connection. A read timeout is not among them: the server got the request and is slow, and
# sending it again only adds load.
RETRY_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ConnectTimeout)

Source = str | Path | bytes
Answer = dict[str, Any]


class DocexitError(Exception):
    """Base of the client's errors."""


class ProblemError(DocexitError):
    """The service answered an error: status, and the problem details' title and detail."""

    def __init__(self, status: int, title: str, detail: str, body: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail, self.body = status, title, detail, dict(body)

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProblemError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # not problem+json: a proxy's page, say
            body = {"detail": response.text[:500].strip()}
        title = str(body.get("title") or response.reason_phrase)
        return cls(response.status_code, title, str(body.get("detail") or title), body)


class UnavailableError(DocexitError):
    """No answer within the retry budget: the service stayed unreachable or kept answering 503.
    status: the last answer's (None: no connection)."""

    def __init__(self, detail: str, status: int | None, waited_s: float) -> None:
        super().__init__(f"service unavailable after {waited_s:.0f} s of retries: {detail}")
        self.detail, self.status, self.waited_s = detail, status, waited_s


@dataclass(frozen=True)
class RetryPolicy:
    max_wait_s: float = 120.0  # total seconds slept between attempts of one call
    backoff_s: float = 0.5  # first wait after a connection error, doubled each time
    max_backoff_s: float = 8.0


class _Attempts:
    """The retry decision for one call, apart from I/O so both clients share it."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy, self.waited, self.backoff = policy, 0.0, policy.backoff_s

    def after_response(self, response: httpx.Response) -> float | None:
        """None: the answer is final and good; else seconds to wait before trying again.
        Raises ProblemError for an error answer, UnavailableError once out of budget."""
        if response.is_success:
            return None
        if response.status_code not in RETRY_STATUSES:
            raise ProblemError.from_response(response)
        problem = ProblemError.from_response(response)
        delay = retry_after_s(response.headers.get("retry-after"))
        return self._spend(self._next_backoff() if delay is None else delay, problem)

    def after_error(self, exc: httpx.TransportError) -> float:
        if not isinstance(exc, RETRY_ERRORS):
            raise exc
        return self._spend(self._next_backoff(), exc)

    def _next_backoff(self) -> float:
        delay, self.backoff = self.backoff, min(self.backoff * 2, self.policy.max_backoff_s)
        return delay

    def _spend(self, delay: float, cause: Exception) -> float:
        if self.waited + delay > self.policy.max_wait_s:
            status = cause.status if isinstance(cause, ProblemError) else None
            detail = cause.detail if isinstance(cause, ProblemError) else f"{cause!r}"
            raise UnavailableError(detail, status, self.waited) from cause
        self.waited += delay
        return delay


def retry_after_s(value: str | None) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110); None when absent or
    unreadable (the caller backs off instead)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_form(
    source: Source,
    filename: str | None,
    pages: str | int | None,
    page: int | None,
    latency_budget_ms: int | None,
    policy: str | Mapping[str, Any] | None,
    full_depth: bool,
) -> dict[str, Any]:
    """The multipart body of POST /v1/classify as httpx's files= and data= arguments."""
    if isinstance(source, bytes):
        data, name = source, filename or "upload"
    else:
        path = Path(source)
        data, name = path.read_bytes(), filename or path.name
    content_type = CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
    fields: dict[str, str] = {}
    if pages is not None:
        fields["pages"] = str(pages)
    if page is not None:
        fields["page"] = str(page)
    if latency_budget_ms is not None:
        fields["latency_budget_ms"] = str(latency_budget_ms)
    if policy is not None:
        fields["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    if full_depth:
        fields["full_depth"] = "true"
    return {"files": {"file": (name, data, content_type)}, "data": fields}


def is_document(answer: Answer) -> bool:
    """A document answer (`pages` honoured) rather than one page's."""
    return "pages_read" in answer


def _ready(response: httpx.Response) -> Answer:
    if not response.is_success:
        raise ProblemError.from_response(response)
    body: Answer = response.json()
    return body


def _timeout(timeout_s: float) -> httpx.Timeout:
    # Connecting fails fast so that a restarting server is retried soon; an answer may take a
    # while (OCR, a full queue, a long PDF read page after page).
    return httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))


class Client:
    """Sync client: `with Client(url) as c: c.classify("page.png")`."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry, self._sleep = retry or RetryPolicy(), sleep
        self._http = httpx.Client(
            base_url=base_url, timeout=_timeout(timeout_s), transport=transport
        )

    def classify(
        self,
        source: Source,
        *,
        filename: str | None = None,
        pages: str | int | None = None,
        page: int | None = None,
        latency_budget_ms: int | None = None,
        policy: str | Mapping[str, Any] | None = None,
        full_depth: bool = False,
    ) -> Answer:
        """POST /v1/classify. pages: "all", "N" or "A-B" (0-based, inclusive) for a document
        answer (is_document); a service without `pages` answers one page instead."""
        form = classify_form(source, filename, pages, page, latency_budget_ms, policy, full_depth)
        return self._json("POST", "/v1/classify", form)

    def model(self) -> Answer:
        """GET /v1/model: the model card the service runs."""
        return self._json("GET", "/v1/model", {})

    def health(self) -> Answer:
        """GET /readyz, once: the body when ready; ProblemError (503) while starting or
        draining, and the transport's error when nothing answers."""
        return _ready(self._http.get("/readyz"))

    def _json(self, method: str, path: str, kwargs: dict[str, Any]) -> Answer:
        attempts = _Attempts(self.retry)
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                self._sleep(attempts.after_error(exc))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                body: Answer = response.json()
                return body
            self._sleep(delay)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The same calls as Client, awaited: `async with AsyncClient(url) as c: ...`."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
    ) -> None:
        self.retry, self._sleep = retry or RetryPolicy(), sleep
        limits = httpx.Limits(max_connections=max_connections)
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=_timeout(timeout_s), transport=transport, limits=limits
        )

    async def classify(
        self,
        source: Source,
        *,
        filename: str | None = None,
        pages: str | int | None = None,
        page: int | None = None,
        latency_budget_ms: int | None = None,
        policy: str | Mapping[str, Any] | None = None,
        full_depth: bool = False,
    ) -> Answer:
        """POST /v1/classify (see Client.classify)."""
        form = classify_form(source, filename, pages, page, latency_budget_ms, policy, full_depth)
        return await self._json("POST", "/v1/classify", form)

    async def model(self) -> Answer:
        return await self._json("GET", "/v1/model", {})

    async def health(self) -> Answer:
        return _ready(await self._http.get("/readyz"))

    async def _json(self, method: str, path: str, kwargs: dict[str, Any]) -> Answer:
        attempts = _Attempts(self.retry)
        while True:
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                await self._sleep(attempts.after_error(exc))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                body: Answer = response.json()
                return body
            await self._sleep(delay)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
