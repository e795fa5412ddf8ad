"""PDFs in time- and memory-limited processes: a PDF that would hold a worker for half a minute
is refused once the limit passes, its process replaced, and the next PDF is served."""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Iterator

import pypdfium2 as pdfium
import pytest

from service.decode import decode
from service.errors import ProblemError
from service.pdf_sandbox import PdfSandbox

LIMITS = (10**8, 40_000_000, 1000)  # max bytes, max pixels, max pages


def one_page_pdf(content: bytes) -> bytes:
    """A one-page PDF whose page draws `content` (compressed)."""
    body = zlib.compress(content, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, obj in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objs) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


# 10 KB that PDFium strokes for about 15-30 s on this machine: 100,000 page-size crosses.
SLOW = one_page_pdf(b"0.1 w\n" + b"0 0 m 612 792 l 612 0 l 0 792 l S\n" * 100_000)
TEXT = one_page_pdf(b"BT /F1 24 Tf 72 700 Td (hello) Tj ET\n")


@pytest.fixture
def sandbox() -> Iterator[PdfSandbox]:
    box = PdfSandbox(processes=1, timeout_s=1.0, memory_bytes=1024 * 2**20)
    yield box
    box.close()


def test_a_pdf_renders_in_the_sandbox_as_it_does_in_process(sandbox: PdfSandbox) -> None:
    here = decode(TEXT, 0, *LIMITS)
    there = decode(TEXT, 0, *LIMITS, pdf=sandbox)
    assert there.image.size == here.image.size and there.image.tobytes() == here.image.tobytes()
    assert (there.format, there.page, there.pages) == ("pdf", 0, 1)
    child = sandbox._all[0].proc  # the process the page was rendered in
    assert child.is_alive() and child.pid is not None


def test_problems_come_back_as_problems(sandbox: PdfSandbox) -> None:
    with pytest.raises(ProblemError) as missing:
        decode(TEXT, 3, *LIMITS, pdf=sandbox)
    assert missing.value.status_code == 422 and "does not exist" in str(missing.value.detail)
    many = pdfium.PdfDocument.new()
    for _ in range(3):
        many.new_page(612, 792)
    buf = io.BytesIO()
    many.save(buf)
    with pytest.raises(ProblemError) as too_many:
        decode(buf.getvalue(), 0, 10**8, 40_000_000, 2, pdf=sandbox)
    assert too_many.value.status_code == 413


def test_a_slow_pdf_is_cut_off_and_its_process_replaced(sandbox: PdfSandbox) -> None:
    decode(TEXT, 0, *LIMITS, pdf=sandbox)  # the process is up
    first = sandbox._all[0].proc
    start = time.monotonic()
    with pytest.raises(ProblemError) as slow:
        decode(SLOW, 0, *LIMITS, pdf=sandbox)
    took = time.monotonic() - start
    assert slow.value.status_code == 422 and "more than 1 s" in str(slow.value.detail)
    assert 1.0 <= took < 5.0  # the limit, not the 15-30 s the page would take
    assert not first.is_alive()
    page = decode(TEXT, 0, *LIMITS, pdf=sandbox)  # a fresh process serves the next PDF
    assert page.pages == 1 and sandbox._all[0].proc.is_alive()


def test_close_stops_every_process(sandbox: PdfSandbox) -> None:
    decode(TEXT, 0, *LIMITS, pdf=sandbox)
    procs = [w.proc for w in sandbox._all]
    sandbox.close()
    assert procs and not any(p.is_alive() for p in procs)
