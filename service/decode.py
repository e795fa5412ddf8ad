"""Uploads to page images: PNG, JPEG, TIFF (any frame) and PDF (any page, via pypdfium2).

The format is sniffed from the bytes, not taken from the client's Content-Type. Pixel counts
are checked from the header before any pixel is decoded, so a decompression bomb costs a few
bytes of parsing and answers 413; so does a document of more pages (PDF) or frames (TIFF) than
max_pages, counted without opening any of them. Anything the decoders reject answers 422,
never 500."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from service.errors import ProblemError, invalid, too_large, undecodable, unsupported

if TYPE_CHECKING:
    from service.pdf_sandbox import PdfSandbox

PDF_LONG_SIDE = 1000  # px: RVL-CDIP's page size, what the model was trained on
MAX_SIDE = 32767  # px: Tesseract refuses any longer image, so the page's OCR would fail (500)
MIN_SIDE = 2  # px: the cascade OCRs a page as two bands of rows; one row leaves a band empty
MAX_PAGES = 1000  # Settings.max_pages's default: PDF pages or TIFF frames
PDF_LOAD_ERRORS = {  # PDFium's FPDF_ERR_* codes, as a client can act on them
    0: "it has no pages",
    1: "PDFium failed for an unknown reason",
    2: "PDFium could not read it",
    3: "its structure is damaged or it is no PDF",
    4: "it is encrypted with a password; send it decrypted",
    5: "it uses a security scheme PDFium does not support",
    6: "its page tree or content is damaged",
}

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


def decode(
    data: bytes,
    page: int,
    max_bytes: int,
    max_pixels: int,
    max_pages: int = MAX_PAGES,
    pdf: PdfSandbox | None = None,
) -> Page:
    """The requested page of an upload as a grayscale image; raises ProblemError only.
    pdf: where PDFs are opened and rendered (time- and memory-limited processes); None: here."""
    if len(data) > max_bytes:
        raise too_large(f"the upload is {len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise invalid("the upload is empty")
    if page < 0:
        raise invalid(f"page must be 0 or more, not {page}")
    kind = sniff(data)
    try:
        if kind == "pdf" and pdf is not None:
            return pdf.decode(data, page, max_bytes, max_pixels, max_pages)
        if kind == "pdf":
            return _pdf(data, page, max_pixels, max_pages)
        return _raster(data, kind, page, max_pixels, max_pages)
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
    if max(width, height) > MAX_SIDE:
        raise too_large(
            f"the page is {width}x{height} pixels; no side may be over {MAX_SIDE} (OCR's limit)"
        )
    if min(width, height) < MIN_SIDE:
        raise undecodable(
            f"the page is {width}x{height} pixels: too small to read (at least {MIN_SIDE} a side)"
        )


def _too_many(what: str, count: str, max_pages: int) -> ProblemError:
    return too_large(
        f"the {what} has {count}; the limit is {max_pages} (DOCEXIT_MAX_PAGES): send the "
        "page to classify on its own"
    )


def tiff_frames(data: bytes, max_pages: int) -> int:
    """The frames of a classic TIFF, counted by walking its chain of IFDs (image headers) from
    the bytes, without parsing any: Pillow's n_frames reads every IFD, which for a file of
    100,000 tiny frames costs seconds. The walk stops one frame past max_pages (413) and refuses
    a chain that comes back to an IFD it has seen (422), so it is bounded whatever the file. An
    IFD that does not fit in the file ends the chain: the frames before it are readable."""
    order = "<" if data[:2] == b"II" else ">"
    if len(data) < 8:
        raise undecodable("the TIFF header is cut short")
    (offset,) = struct.unpack_from(order + "I", data, 4)
    seen: set[int] = set()
    while offset:
        if offset in seen:
            raise undecodable(f"the TIFF's chain of frames loops back to byte {offset}")
        if offset + 2 > len(data):
            break
        (entries,) = struct.unpack_from(order + "H", data, offset)
        link = offset + 2 + 12 * entries
        if link + 4 > len(data):
            break
        seen.add(offset)
        if len(seen) > max_pages:
            raise _too_many("TIFF", f"more than {max_pages} frames", max_pages)
        (offset,) = struct.unpack_from(order + "I", data, link)
    if not seen:
        raise undecodable("the TIFF's first frame header lies outside the file")
    return len(seen)


def _raster(data: bytes, kind: str, page: int, max_pixels: int, max_pages: int) -> Page:
    frames = tiff_frames(data, max_pages) if kind == "tiff" else None
    with warnings.catch_warnings():
        # Our own limit applies before Pillow's; its bomb warning is then noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[kind]])
        except Image.DecompressionBombError as exc:
            raise too_large(f"decompression bomb refused: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise undecodable(f"the {kind.upper()} header cannot be read") from exc
        if frames is None:
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


def _pdf(data: bytes, page: int, max_pixels: int, max_pages: int) -> Page:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # pypdfium2 refuses a document without pages too, with PDFium's code for success.
        reason = PDF_LOAD_ERRORS.get(exc.err_code or 0, f"PDFium error {exc.err_code}")
        raise undecodable(f"the PDF cannot be opened: {reason}") from exc
    try:
        # PDFium counts pages from the page tree, without loading any: what a tiny file claims
        # is refused here before a page of it is opened.
        pages = len(doc)
        if pages == 0:
            raise undecodable("the PDF has no pages")
        if pages > max_pages:
            raise _too_many("PDF", f"{pages} pages", max_pages)
        if page >= pages:
            raise invalid(f"page {page} does not exist: the PDF has {pages} page(s)")
        try:
            pdf_page = doc[page]
        except pdfium.PdfiumError as exc:  # the page tree promised a page it does not hold
            raise undecodable(f"PDF page {page} cannot be loaded: {PDF_LOAD_ERRORS[6]}") from exc
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
