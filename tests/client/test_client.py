"""docexit.client against httpx.MockTransport: the form it sends, Retry-After and backoff with a
recorded sleep (nothing really sleeps), problem+json turned into ProblemError."""

from __future__ import annotations

import asyncio
import email.utils
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docexit.client import (
    AsyncClient,
    Client,
    ProblemError,
    RetryPolicy,
    UnavailableError,
    retry_after_s,
)

URL = "http://docexit.test"
PAGE_ANSWER = {"label": "invoice", "confidence": 0.9, "exit": {"name": "vision.2"}}

Handler = Callable[[httpx.Request], httpx.Response]


def problem(status: int, title: str, detail: str, **headers: str) -> httpx.Response:
    body = {"type": "urn:docexit:problem:x", "title": title, "status": status, "detail": detail}
    content_type = {"content-type": "application/problem+json"}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=content_type | headers)


def scripted(*outcomes: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering the outcomes in order (the last one again after that), and the
    requests it saw."""
    seen: list[httpx.Request] = []
    it: Iterator[httpx.Response | Exception] = iter(outcomes)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = next(it, outcomes[-1])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return handle, seen


def client(handler: Handler, sleeps: list[float], **retry: float) -> Client:
    return Client(
        URL, retry=RetryPolicy(**retry), sleep=sleeps.append, transport=httpx.MockTransport(handler)
    )


def ok() -> httpx.Response:
    return httpx.Response(200, json=PAGE_ANSWER)


def test_classify_posts_the_file_and_the_form_fields(tmp_path: Path) -> None:
    handler, seen = scripted(ok())
    page = tmp_path / "scan.PDF"
    page.write_bytes(b"%PDF-1.7 fake")
    with client(handler, []) as c:
        answer = c.classify(
            page, pages="all", latency_budget_ms=800, policy={"name": "global", "tau": 0.9},
            full_depth=True,
        )  # fmt: skip
    assert answer == PAGE_ANSWER
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1/classify"
    body = request.content.decode()
    assert 'name="file"; filename="scan.PDF"' in body and "application/pdf" in body
    assert "%PDF-1.7 fake" in body
    for name, value in [
        ("pages", "all"),
        ("latency_budget_ms", "800"),
        ("policy", '{"name": "global", "tau": 0.9}'),
        ("full_depth", "true"),
    ]:
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body, name
    assert 'name="page"' not in body  # unset fields are not sent: the service's defaults hold


def test_bytes_are_sent_under_the_given_name() -> None:
    handler, seen = scripted(ok())
    with client(handler, []) as c:
        c.classify(b"\x89PNG...", filename="p.png", page=2)
    body = seen[0].content.decode(errors="replace")
    assert 'filename="p.png"' in body and "image/png" in body
    assert 'name="page"\r\n\r\n2\r\n' in body


def test_a_503_waits_as_long_as_retry_after_says_then_answers() -> None:
    handler, seen = scripted(
        problem(503, "Service overloaded", "queue is full", **{"Retry-After": "3"}),
        problem(503, "Service not ready", "warming up", **{"Retry-After": "1"}),
        ok(),
    )
    sleeps: list[float] = []
    with client(handler, sleeps) as c:
        assert c.classify(b"x", filename="p.png") == PAGE_ANSWER
    assert sleeps == [3.0, 1.0] and len(seen) == 3


def test_a_503_without_retry_after_backs_off() -> None:
    handler, _ = scripted(problem(503, "Service unavailable", "busy"), ok())
    sleeps: list[float] = []
    with client(handler, sleeps) as c:
        c.classify(b"x")
    assert sleeps == [0.5]


def test_503s_past_the_wait_budget_raise_unavailable_with_the_detail() -> None:
    handler, seen = scripted(
        problem(503, "Service overloaded", "queue is full", **{"Retry-After": "50"})
    )
    sleeps: list[float] = []
    with client(handler, sleeps, max_wait_s=120) as c, pytest.raises(UnavailableError) as err:
        c.classify(b"x")
    assert sleeps == [50.0, 50.0] and len(seen) == 3  # a third wait would pass 120 s
    assert err.value.status == 503 and err.value.detail == "queue is full"
    assert err.value.waited_s == 100.0


def test_connection_errors_back_off_until_the_server_is_back() -> None:
    refused = httpx.ConnectError("connection refused")
    dropped = httpx.RemoteProtocolError("server disconnected without sending a response")
    handler, seen = scripted(refused, refused, dropped, refused, ok())
    sleeps: list[float] = []
    with client(handler, sleeps) as c:
        assert c.model() == PAGE_ANSWER
    assert sleeps == [0.5, 1.0, 2.0, 4.0] and seen[-1].url.path == "/v1/model"


def test_connection_errors_stop_at_the_wait_budget() -> None:
    handler, _ = scripted(httpx.ConnectError("connection refused"))
    sleeps: list[float] = []
    with client(handler, sleeps, max_wait_s=20, max_backoff_s=8) as c:
        with pytest.raises(UnavailableError) as err:
            c.classify(b"x")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0] and sum(sleeps) <= 20  # another 8 s would pass 20
    assert err.value.status is None and "ConnectError" in err.value.detail


def test_a_4xx_raises_its_problem_details_at_once() -> None:
    refused = problem(415, "Unsupported media type", "the upload is not a PNG, JPEG, TIFF or PDF")
    handler, seen = scripted(refused)
    sleeps: list[float] = []
    with client(handler, sleeps) as c, pytest.raises(ProblemError) as err:
        c.classify(b"GIF89a", filename="a.gif")
    e = err.value
    assert (e.status, e.title) == (415, "Unsupported media type")
    assert e.detail == "the upload is not a PNG, JPEG, TIFF or PDF" and e.detail in str(e)
    assert e.body["type"] == "urn:docexit:problem:x"
    assert sleeps == [] and len(seen) == 1


def test_an_error_that_is_not_problem_json_keeps_its_text() -> None:
    handler, _ = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    with client(handler, []) as c, pytest.raises(ProblemError) as err:
        c.classify(b"x")
    assert err.value.status == 502 and err.value.title == "Bad Gateway"
    assert err.value.detail == "<html>bad gateway</html>"


def test_a_read_timeout_is_not_sent_again() -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    with client(handler, []) as c, pytest.raises(httpx.ReadTimeout):
        c.classify(b"x")
    assert len(seen) == 1


def test_health_reads_readyz_once() -> None:
    handler, seen = scripted(
        problem(503, "Service not ready", "warming up", **{"Retry-After": "5"}),
        httpx.Response(200, json={"status": "ok", "detail": "ready"}),
    )
    sleeps: list[float] = []
    with client(handler, sleeps) as c:
        with pytest.raises(ProblemError) as err:
            c.health()
        assert err.value.detail == "warming up"
        assert c.health()["status"] == "ok"
    assert [r.url.path for r in seen] == ["/readyz", "/readyz"] and sleeps == []


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s(None) is None and retry_after_s("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after_s(later) or 0) <= 31
    earlier = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_s(earlier) == 0.0


def test_the_async_client_retries_the_same_way() -> None:
    handler, seen = scripted(
        httpx.ConnectError("refused"),
        problem(503, "Service not ready", "warming up", **{"Retry-After": "2"}),
        ok(),
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> dict[str, Any]:
        transport = httpx.MockTransport(handler)
        async with AsyncClient(URL, sleep=sleep, transport=transport) as c:
            return await c.classify(b"x", filename="p.png", pages="0-2")

    assert asyncio.run(run()) == PAGE_ANSWER
    assert sleeps == [0.5, 2.0] and len(seen) == 3
    assert 'name="pages"\r\n\r\n0-2\r\n' in seen[-1].content.decode(errors="replace")


def test_the_client_imports_neither_torch_nor_the_service() -> None:
    code = (
        "import sys, docexit.cli; print(sorted({'torch', 'service', 'models'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
