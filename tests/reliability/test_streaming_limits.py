"""Upload limits hold while the body streams in, against a real `python -m service` process
with a 1 MiB upload limit: a chunked 200 MB upload is cut off near the limit (413, connection
closed) without the server reading, buffering or spooling the rest; a body whose Content-Length
is over the limit is refused before any of it is sent."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from service.app import FORM_OVERHEAD
from tests.processes import SHIPPED, ServiceProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]

MIB = 1024 * 1024
LIMIT = 1 * MIB  # DOCEXIT_MAX_UPLOAD_BYTES for this module
BODY = 200 * 1000 * 1000  # what the client would send, were it let
CHUNK = 64 * 1024
BOUNDARY = "streaming-limit-boundary"
# The server stops reading at LIMIT + FORM_OVERHEAD (the allowance for the form's text fields);
# past that the client can only fill the kernel's socket buffers before the connection closes:
# its own send buffer is pinned small below, and the server's receive buffer, autotuned, held
# 1.3 MiB more when measured (4.3 MiB sent in all). Without the close, the server reads all
# 200 MB to reach a next request that never comes.
SENT_BOUND = LIMIT + FORM_OVERHEAD + 8 * MIB
# The server holds a few chunks of the body at a time: RSS growing by a tenth of the body would
# mean it buffered it.
RSS_GROWTH_BOUND = BODY // 10


@dataclass
class Counter:
    sent: int = 0

    def body(self, size: int) -> Iterator[bytes]:
        """A multipart upload of `size` bytes in all (one file), produced as the socket takes
        it: the count is what the client managed to send before the server closed."""
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        chunk = b"\x89PNG\r\n\x1a\n" + b"\x00" * (CHUNK - 8)
        yield self._count(head)
        left = size - len(head) - len(tail)
        while left > 0:
            yield self._count(chunk[:left])
            left -= CHUNK
        yield self._count(tail)

    def _count(self, data: bytes) -> bytes:
        self.sent += len(data)
        return data


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("streaming") / "service.log"
    proc = ServiceProcess(
        log,
        DOCEXIT_MAX_UPLOAD_BYTES=str(LIMIT),
        DOCEXIT_WARMUP_REQUESTS="0",  # no request here reaches the model
        DOCEXIT_SHUTDOWN_DRAIN_S="0",
    )
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def small_send_buffer_client(url: str) -> httpx.Client:
    """A client whose socket send buffer is not autotuned to megabytes: what it counts as sent
    is then what the server read, give or take the server's receive buffer."""
    options = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 128 * 1024)]
    return httpx.Client(
        base_url=url, timeout=60, transport=httpx.HTTPTransport(socket_options=options)
    )


def assert_problem_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["connection"] == "close"
    assert r.json()["status"] == 413 and str(LIMIT + FORM_OVERHEAD) in r.json()["detail"]


def test_a_chunked_upload_is_cut_off_near_the_limit(service: ServiceProcess) -> None:
    counter = Counter()
    rss_before = service.rss_bytes()
    with small_send_buffer_client(service.url) as client:
        r = client.post(
            "/v1/classify",
            content=counter.body(BODY),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert "content-length" not in r.request.headers  # chunked: the server had to count
    assert_problem_413(r)
    assert LIMIT + FORM_OVERHEAD < counter.sent < SENT_BOUND, counter.sent
    growth = service.rss_bytes() - rss_before
    assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / MIB:.1f} MiB"


def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    service: ServiceProcess,
) -> None:
    """Only the headers go out: the answer cannot have waited for a single byte of the body."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/classify HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: multipart/form-data; boundary=" + BOUNDARY.encode() + b"\r\n"
            b"Content-Length: " + str(BODY).encode() + b"\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            assert data, f"closed without an answer: {answer!r}"
            answer += data
    head = answer.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 413")
    assert "content-type: application/problem+json" in head and "connection: close" in head


def test_a_declared_length_over_the_limit_stops_the_upload(service: ServiceProcess) -> None:
    """With a client that sends the body regardless, the server reads none of it."""
    counter = Counter()
    with small_send_buffer_client(service.url) as client:
        r = client.post(
            "/v1/classify",
            content=counter.body(BODY),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(BODY),
            },
        )
    assert r.status_code == 413 and r.headers["connection"] == "close"
    assert counter.sent < SENT_BOUND - LIMIT - FORM_OVERHEAD, counter.sent
