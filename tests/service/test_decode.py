"""Uploads to pages: every supported format, page selection, and every bad upload as 413/415/422
(never an unhandled error)."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from service.decode import decode, sniff
from service.errors import ProblemError
from tests.service.conftest import png

MB = 1024 * 1024


def _save(fmt: str, frames: int = 1, **kw: object) -> bytes:
    images = [Image.new("L", (60 + 10 * i, 80), 30 * i) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, fmt, save_all=frames > 1, append_images=images[1:], **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_raster_formats_decode_to_grayscale(fmt: str) -> None:
    page = decode(_save(fmt), 0, MB, 10**6)
    assert page.image.mode == "L" and page.image.size == (60, 80)
    assert page.format == fmt.lower() and page.pages == 1


def test_tiff_and_pdf_pages_are_selectable() -> None:
    tiff = decode(_save("TIFF", frames=3), 2, MB, 10**6)
    assert tiff.pages == 3 and tiff.image.size == (80, 80)
    pdf = decode(_save("PDF", frames=3), 1, MB, 10**7)
    assert pdf.format == "pdf" and pdf.pages == 3 and pdf.page == 1
    assert max(pdf.image.size) == 1000  # rendered at RVL-CDIP's page size


def _status(data: bytes, page: int = 0, max_bytes: int = MB, max_pixels: int = 10**6) -> int:
    with pytest.raises(ProblemError) as err:
        decode(data, page, max_bytes, max_pixels)
    return err.value.status_code


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of width x height black pixels whose file is tiny (zlib of zeros)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    raw = zlib.compress(b"\x00" * ((width + 1) * 64), 9)  # a few rows suffice: never decoded
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_limits_answer_413() -> None:
    assert _status(png(), max_bytes=10) == 413
    assert _status(png((2000, 2000)), max_pixels=10**6) == 413
    bomb = _png_bomb(100_000, 100_000)  # 10^10 pixels in a few hundred bytes
    assert len(bomb) < 20_000 and _status(bomb, max_pixels=10**8) == 413


def test_bad_uploads_answer_415_or_422() -> None:
    assert _status(b"hello, this is text") == 415
    assert _status(b"") == 422
    good = png()
    assert _status(good[: len(good) // 2]) == 422  # truncated
    assert _status(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100) == 422  # header only
    assert _status(b"%PDF-1.7\n garbage that is no PDF") == 422
    assert _status(good, page=1) == 422  # no such page
    assert _status(_save("PDF", frames=2), page=5) == 422


def test_sniff_ignores_the_clients_claim() -> None:
    assert sniff(_save("JPEG")) == "jpeg" and sniff(b"  %PDF-1.4 ...") == "pdf"
