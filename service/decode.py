"""Uploads to page images: PNG, JPEG, TIFF (any frame) and PDF (any page, via pypdfium2).

The format is sniffed from the bytes, not taken from the client's Content-Type. Pixel counts
are checked from the header before any pixel is decoded, so a decompression bomb costs a few
bytes of parsing and answers 413; anything the decoders reject answers 422, never 500."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.errors import ProblemError, invalid, too_large, undecodable, unsupported

PDF_LONG_SIDE = 1000  # px: RVL-CDIP's page size, what the model was trained on
MAX_PDF_PAGES = 10_000

SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"%PDF-": "pdf",
}
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}


@dataclass
class Page:
    image: Image.Image  # grayscale ("L")
    format: str  # png | jpeg | tiff | pdf
    page: int  # 0-based page or frame
    pages: int  # how many the document has


def sniff(data: bytes) -> str:
    for magic, kind in SIGNATURES.items():
        if data.startswith(magic):
            return kind
    # PDF allows up to 1 KiB of junk before the header.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    raise unsupported("the upload is not a PNG, JPEG, TIFF or PDF file (sniffed from its bytes)")


def decode(data: bytes, page: int, max_bytes: int, max_pixels: int) -> Page:
    """The requested page of an upload as a grayscale image; raises ProblemError only."""
    if len(data) > max_bytes:
        raise too_large(f"the upload is {len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise invalid("the upload is empty")
    if page < 0:
        raise invalid(f"page must be 0 or more, not {page}")
    kind = sniff(data)
    try:
        if kind == "pdf":
            return _pdf(data, page, max_pixels)
        return _raster(data, kind, page, max_pixels)
    except ProblemError:
        raise
    except Exception as exc:  # any decoder failure is the upload's fault
        raise undecodable(f"the {kind.upper()} upload cannot be decoded: {exc}") from exc


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise undecodable(f"the page has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise too_large(
            f"the page is {width}x{height} = {width * height} pixels; the limit is {max_pixels}"
        )


def _raster(data: bytes, kind: str, page: int, max_pixels: int) -> Page:
    with warnings.catch_warnings():
        # Our own limit applies before Pillow's; its bomb warning is then noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[kind]])
        except Image.DecompressionBombError as exc:
            raise too_large(f"decompression bomb refused: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise undecodable(f"the {kind.upper()} header cannot be read") from exc
        frames = getattr(image, "n_frames", 1)
        if page >= frames:
            raise invalid(f"page {page} does not exist: the {kind.upper()} has {frames} page(s)")
        if page:
            image.seek(page)
        _check_pixels(image.width, image.height, max_pixels)
        # Pillow fails on truncated files by default (LOAD_TRUNCATED_IMAGES is False): 422.
        image.load()
        gray = image.convert("L")
    return Page(gray, kind, page, frames)


def _pdf(data: bytes, page: int, max_pixels: int) -> Page:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        pages = len(doc)
        if pages == 0 or pages > MAX_PDF_PAGES:
            raise undecodable(f"the PDF has {pages} pages")
        if page >= pages:
            raise invalid(f"page {page} does not exist: the PDF has {pages} page(s)")
        pdf_page = doc[page]
        try:
            w, h = pdf_page.get_size()  # points
            if not (w > 0 and h > 0):
                raise undecodable(f"PDF page {page} has no area ({w}x{h} pt)")
            scale = PDF_LONG_SIDE / max(w, h)
            _check_pixels(max(1, round(w * scale)), max(1, round(h * scale)), max_pixels)
            bitmap = pdf_page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil().convert("L")
        finally:
            pdf_page.close()
    finally:
        doc.close()
    return Page(image, "pdf", page, pages)
