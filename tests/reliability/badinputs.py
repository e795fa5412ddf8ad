"""A corpus of malformed uploads for POST /v1/classify, each with the status the service must
answer and why: 413 over a limit (bytes, pixels, pages), 415 a format it does not read, 422
content it cannot decode or a field it refuses. Never 500.

    python -m tests.reliability.badinputs --out DIR

writes every case's file and DIR/manifest.json; build(DIR) does the same from a test. The
corpus is deterministic (seeded noise, hand-built containers, pypdf's randomness seeded) and
built in about a second. Expectations assume the service's default limits, listed under
"limits" in the manifest: a test must start the service with exactly those.

A manifest value is a str (sent UTF-8 encoded) or {"hex": "..."} (sent as those raw bytes), so
that non-UTF-8 field values, field names, file names and headers fit in JSON."""

from __future__ import annotations

import argparse
import io
import json
import random
import secrets
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from PIL import Image, ImageDraw

MIB = 1024 * 1024
LIMITS = {  # the service's defaults, which the expected statuses assume
    "DOCEXIT_MAX_UPLOAD_BYTES": 20 * MIB,
    "DOCEXIT_MAX_PIXELS": 40_000_000,
    "DOCEXIT_MAX_PAGES": 1000,
    "DOCEXIT_MAX_OCR_WORDS": 5000,
}
BOUNDARY = "docexit-bad-inputs-boundary"
Value = str | dict[str, str]  # text, or {"hex": raw bytes}


def hexed(raw: bytes) -> dict[str, str]:
    return {"hex": raw.hex()}


def raw(value: Value) -> bytes:
    return bytes.fromhex(value["hex"]) if isinstance(value, dict) else value.encode()


@dataclass
class Case:
    name: str
    status: int
    why: str
    data: bytes | None  # the file part's bytes; None: the request has no file part
    ext: str = "png"  # of the file written to the corpus folder
    filename: Value = "page.png"  # as sent in the file part
    content_type: str = "image/png"  # the file part's claimed type
    file_field: Value = "file"
    fields: dict[str, Value] = field(default_factory=dict)
    headers: dict[str, Value] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": None if self.data is None else f"{self.name}.{self.ext}",
            "filename": self.filename,
            "content_type": self.content_type,
            "file_field": self.file_field,
            "fields": self.fields,
            "headers": self.headers,
            "status": self.status,
            "why": self.why,
        }


# ---------------------------------------------------------------- source images


def good_page() -> bytes:
    """A plausible scanned page (grey blocks as text lines on white): the control upload."""
    rng = random.Random(7)
    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for y in range(60, 740, 28):
        x = 50
        while x < 540:
            w = rng.randint(20, 90)
            draw.rectangle((x, y, min(x + w, 550), y + 12), fill=rng.randint(0, 80))
            x += w + rng.randint(8, 16)
    return _save(image, "PNG")


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    """Incompressible pixels: a cut anywhere in the pixel data loses rows for sure."""
    rng = random.Random(seed)
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def _save(image: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_of(
    width: int, height: int, idat: bytes, depth: int = 8, color: int = 0, extra: bytes = b""
) -> bytes:
    """A PNG container around any IDAT: its header may promise far more than the data holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return PNG_MAGIC + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_blank(width: int, height: int) -> bytes:
    """A real, fully decodable 1-bit white PNG of any size (zlib of its rows: tiny)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return png_of(width, height, body, depth=1)


def png_bomb(width: int, height: int, color: int = 0) -> bytes:
    """A header promising width x height pixels over a few rows of data: never to be decoded."""
    return png_of(width, height, zlib.compress(b"\x00" * 4096, 9), color=color)


def jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) claims another size than its scan data holds."""
    at = jpeg.index(b"\xff\xc0") + 5  # marker, length (2), precision (1): then height, width
    return jpeg[:at] + struct.pack(">HH", height, width) + jpeg[at + 4 :]


# ---------------------------------------------------------------- TIFF, built by hand

TIFF_IFD = 2 + 8 * 12 + 4  # entry count, 8 entries, next-IFD offset


def _ifd(width: int, height: int, strip: int, strip_len: int, compression: int, nxt: int) -> bytes:
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value (left-justified: little-endian)
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, compression),
        (262, 3, 1, 1),  # BlackIsZero
        (273, 4, 1, strip),
        (278, 4, 1, height),
        (279, 4, 1, strip_len),
    ]
    body = b"".join(struct.pack("<HHII", *e) for e in entries)
    return struct.pack("<H", len(entries)) + body + struct.pack("<I", nxt)


def tiff_of(
    frames: list[tuple[int, int]],
    strip: bytes = b"\x80" * 64,
    compression: int = 1,
    link: Callable[[int, int], int] | None = None,
) -> bytes:
    """A little-endian TIFF with one IFD per (width, height), all sharing one strip (a frame's
    data need not be all there: only its header is read before the limits refuse it).
    link(i, offset of IFD i+1): the next-IFD offset IFD i writes, to build loops and dangling
    chains; by default the chain ends after the last frame."""
    first = 8 + len(strip) + len(strip) % 2  # IFDs start word-aligned after the strip
    ifds = []
    for i, (w, h) in enumerate(frames):
        following = first + (i + 1) * TIFF_IFD
        nxt = following if i + 1 < len(frames) else 0
        if link is not None:
            nxt = link(i, following)
        ifds.append(_ifd(w, h, 8, len(strip), compression, nxt))
    pad = b"\x00" * (len(strip) % 2)
    return b"II*\x00" + struct.pack("<I", first) + strip + pad + b"".join(ifds)


# ---------------------------------------------------------------- PDF, built by hand


def pdf_of(pages: int, count: int | None = None, kids: str = "") -> bytes:
    """A PDF of blank pages with a classic xref table. count: what /Count claims (the truth by
    default); kids: extra entries for /Kids (to point the page tree at itself)."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [{}] /Count {} >>".format(
            " ".join(f"{3 + i} 0 R" for i in range(pages)) + kids,
            pages if count is None else count,
        ),
        *["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return bytes(out + trailer.encode())


@contextmanager
def _seeded_secrets(seed: int) -> Iterator[None]:
    """pypdf draws file ids, salts and AES IVs from `secrets`; seeded here so that the corpus
    is the same bytes on every run."""
    rng = random.Random(seed)
    with mock.patch.object(secrets, "token_bytes", lambda n=32: rng.randbytes(n)):
        yield


def pdf_encrypted(algorithm: str, seed: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    with _seeded_secrets(seed):
        writer.encrypt(user_password="user-secret", owner_password="owner", algorithm=algorithm)
        buf = io.BytesIO()
        writer.write(buf)
    return buf.getvalue()


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed: deterministic
        z.writestr(info, data)
    return buf.getvalue()


# ---------------------------------------------------------------- the cases


def _formats(good: bytes) -> Iterator[Case]:
    """Bytes that are no PNG, JPEG, TIFF or PDF, whatever their name and claimed type: 415."""
    why = "sniffed from the bytes as none of PNG, JPEG, TIFF, PDF: the client's claim is ignored"
    small = Image.new("RGB", (40, 30), (200, 10, 10))
    others = {
        "gif": _save(small, "GIF"),
        "bmp": _save(small, "BMP"),
        "webp": _save(small, "WEBP", lossless=True),
        "ico": _save(small, "ICO"),
        "text": b"this is a scanned page, honestly\n",
        "json": b'{"page": "not an image"}',
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
        "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "zip": _zip("page.png", good),
        "gzip_png": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + zlib.compress(good)[2:],
        "bigtiff": b"II+\x00\x08\x00\x00\x00" + b"\x00" * 64,  # a TIFF variant not read
        "utf16_text": "page".encode("utf-16"),
        "png_base64": __import__("base64").b64encode(good[:300]),
    }
    for kind, data in others.items():
        yield Case(f"type_{kind}_as_png", 415, why, data, ext=kind)
    yield Case("truncated_png_4_bytes", 415, "4 bytes: not even a whole PNG signature", good[:4])
    yield Case("truncated_jpeg_2_bytes", 415, "2 bytes: too few to be recognised", b"\xff\xd8")


def _truncated(noise_png: bytes, noise_jpeg: bytes, tiff: bytes) -> Iterator[Case]:
    why = "recognised by its signature but cut short at byte {}: it cannot be decoded"
    n = len(noise_png)
    for cut in (8, 20, 33, n // 4, n // 2, n * 9 // 10):
        yield Case(f"truncated_png_{cut}", 422, why.format(cut), noise_png[:cut])
    n = len(noise_jpeg)
    sof = noise_jpeg.index(b"\xff\xc0")
    for cut in (3, 20, sof + 4, sof + 40, n // 2, n * 9 // 10):
        yield Case(
            f"truncated_jpeg_{cut}", 422, why.format(cut), noise_jpeg[:cut], "jpg", "page.jpg",
            "image/jpeg",
        )  # fmt: skip
    for cut in (8, len(tiff) // 2, len(tiff) - 40):
        yield Case(
            f"truncated_tiff_{cut}", 422, why.format(cut), tiff[:cut], "tif", "page.tif",
            "image/tiff",
        )  # fmt: skip
    yield Case("zero_bytes", 422, "an empty file is no page", b"")


def _bombs(noise_jpeg: bytes) -> Iterator[Case]:
    px = LIMITS["DOCEXIT_MAX_PIXELS"]
    hdr = f"the header claims {{}} pixels, over DOCEXIT_MAX_PIXELS={px}: refused before decoding"
    yield Case("png_bomb_10g_pixels", 413, hdr.format("10^10"), png_bomb(100_000, 100_000))
    yield Case("png_bomb_rgba", 413, hdr.format("9*10^8 RGBA"), png_bomb(30_000, 30_000, color=6))
    yield Case("png_bomb_just_over", 413, hdr.format("7000x6000"), png_bomb(7000, 6000))
    yield Case("png_bomb_1_by_2g", 413, hdr.format("1x(2^31-1)"), png_bomb(1, 2**31 - 1))
    yield Case(
        "png_100_megapixels", 413, "a real, decodable 10000x10000 page: over the pixel limit",
        png_blank(10_000, 10_000),
    )  # fmt: skip
    yield Case(
        "jpeg_bomb_65000", 413, hdr.format("65000x65000"),
        jpeg_with_size(noise_jpeg, 65_000, 65_000), "jpg", "page.jpg", "image/jpeg",
    )  # fmt: skip
    yield Case(
        "jpeg_100_megapixels", 413, hdr.format("10000x10000"),
        jpeg_with_size(noise_jpeg, 10_000, 10_000), "jpg", "page.jpg", "image/jpeg",
    )  # fmt: skip
    deflated = zlib.compress(b"\x00" * 65536, 9)
    yield Case(
        "tiff_bomb_deflate", 413, hdr.format("10^10 deflated"),
        tiff_of([(100_000, 100_000)], deflated, compression=8), "tif", "page.tif", "image/tiff",
    )  # fmt: skip
    yield Case(
        "tiff_100_megapixels", 413, "a real 1-bit 10000x10000 TIFF: over the pixel limit",
        _save(Image.new("1", (10_000, 10_000), 1), "TIFF", compression="group4"), "tif",
        "page.tif", "image/tiff",
    )  # fmt: skip
    yield Case("png_zero_width", 422, "a PNG 0 pixels wide has no page", png_bomb(0, 100))
    side = "a side over 32767 px (Tesseract's limit: its OCR would fail), {} pixels in all"
    yield Case("png_side_over_32767", 413, side.format("3.3 million"), png_blank(32_768, 100))
    yield Case(
        "tiff_side_over_32767", 413, side.format("40 million"), tiff_of([(40_000, 1000)]), "tif",
        "page.tif", "image/tiff",
    )  # fmt: skip
    tiny = "a page {} cannot be read: OCR cuts it into two bands of rows, one would be empty"
    yield Case("png_one_row", 422, tiny.format("one row high"), _save(_noise((1000, 1), 4), "PNG"))
    yield Case("png_one_pixel", 422, tiny.format("of one pixel"), _save(_noise((1, 1), 5), "PNG"))


def _multipage() -> Iterator[Case]:
    pages = LIMITS["DOCEXIT_MAX_PAGES"]
    over = (
        f"{{}} frames, over DOCEXIT_MAX_PAGES={pages}: counted without decoding, the count "
        "stopping past the limit"
    )
    tif = {"ext": "tif", "filename": "scan.tif", "content_type": "image/tiff"}
    yield Case("tiff_100000_frames", 413, over.format(100_000), tiff_of([(1, 1)] * 100_000), **tif)
    yield Case("tiff_1001_frames", 413, over.format(1001), tiff_of([(1, 1)] * 1001), **tif)
    huge = tiff_of([(8, 8), (8, 8), (100_000, 100_000)])
    yield Case(
        "tiff_huge_third_frame", 413, "frame 2 claims 10^10 pixels: refused from its header",
        huge, fields={"page": "2"}, **tif,
    )  # fmt: skip
    three = tiff_of([(8, 8)] * 3)
    yield Case(
        "tiff_frame_out_of_range", 422, "page 3 of a 3-frame TIFF (pages count from 0)", three,
        fields={"page": "3"}, **tif,
    )  # fmt: skip
    loop = tiff_of([(8, 8)] * 2, link=lambda i, nxt: nxt if i == 0 else 8 + 64)
    yield Case("tiff_ifd_loop", 422, "IFD 1 links back to IFD 0: a malformed chain", loop, **tif)
    self_loop = tiff_of([(8, 8)], link=lambda i, nxt: 8 + 64)
    yield Case("tiff_ifd_self_loop", 422, "the only IFD links to itself", self_loop, **tif)
    dangling = b"II*\x00" + struct.pack("<I", 0xFFFFFF00) + b"\x00" * 64
    yield Case(
        "tiff_ifd_past_eof", 422, "the first IFD lies past the end of the file", dangling, **tif
    )
    cut_ifd = b"II*\x00" + struct.pack("<IH", 8, 65535) + b"\x00" * 100
    yield Case("tiff_ifd_truncated", 422, "an IFD of 65535 entries in 100 bytes", cut_ifd, **tif)


def _pdfs() -> Iterator[Case]:
    pages = LIMITS["DOCEXIT_MAX_PAGES"]
    over = f"{{}} pages, over DOCEXIT_MAX_PAGES={pages}: no page classifier should open it"
    pdf = {"ext": "pdf", "filename": "doc.pdf", "content_type": "application/pdf"}
    yield Case("pdf_10000_pages", 413, over.format(10_000), pdf_of(10_000), **pdf)
    yield Case("pdf_1001_pages", 413, over.format(1001), pdf_of(1001), **pdf)
    yield Case("pdf_no_pages", 422, "a page tree with no page", pdf_of(0), **pdf)
    yield Case(
        "pdf_page_out_of_range", 422, "page 3 of a 3-page PDF (pages count from 0)", pdf_of(3),
        fields={"page": "3"}, **pdf,
    )  # fmt: skip
    for algorithm in ("RC4-128", "AES-128", "AES-256"):
        yield Case(
            f"pdf_encrypted_{algorithm.lower()}", 422,
            f"{algorithm}-encrypted with a user password: unreadable without it",
            pdf_encrypted(algorithm, seed=len(algorithm)), **pdf,
        )  # fmt: skip
    yield Case("pdf_header_only", 422, "the PDF header and nothing else", b"%PDF-1.7\n", **pdf)
    yield Case(
        "pdf_garbage_body", 422, "a PDF header over bytes that hold no PDF object",
        b"%PDF-1.4\n" + random.Random(3).randbytes(4000), **pdf,
    )  # fmt: skip
    yield Case(
        "pdf_count_claims_a_million", 413,
        "a one-page file whose page tree claims 10^6 pages: the claim is over the limit",
        pdf_of(1, count=1_000_000), **pdf,
    )  # fmt: skip
    yield Case(
        "pdf_count_lies_page_missing", 422, "the page tree claims 5 pages and holds 1: page 3 "
        "cannot be loaded", pdf_of(1, count=5), fields={"page": "3"}, **pdf,
    )  # fmt: skip
    yield Case(
        "pdf_page_tree_loop", 422, "the page tree lists itself as a kid: page 1 does not exist",
        pdf_of(1, kids=" 2 0 R"), fields={"page": "1"}, **pdf,
    )  # fmt: skip
    whole = pdf_of(3)
    yield Case("pdf_truncated_half", 422, "cut in half", whole[: len(whole) // 2], **pdf)
    yield Case(
        "pdf_truncated_before_xref", 422, "cut before its cross-reference table",
        whole[: whole.index(b"xref")], **pdf,
    )  # fmt: skip


def _polyglots(good: bytes, noise_png: bytes) -> Iterator[Case]:
    why = "{}: the signature matches, the rest is no such file"
    html = b"<html><body><script>fetch('/admin')</script></body></html>" * 8
    yield Case("polyglot_png_magic_html", 422, why.format("PNG magic + HTML"), PNG_MAGIC + html)
    yield Case(
        "polyglot_png_magic_zip", 422, why.format("PNG magic + a ZIP archive"),
        PNG_MAGIC + _zip("x.html", html),
    )  # fmt: skip
    yield Case(
        "polyglot_pdf_header_png_body", 422, why.format("%PDF header over a PNG body"),
        b"%PDF-1.7\n" + noise_png, ext="pdf",
    )  # fmt: skip
    yield Case(
        "polyglot_jpeg_soi_zip", 422, why.format("JPEG SOI + a ZIP archive"),
        b"\xff\xd8\xff" + _zip("page.png", good), "jpg", "page.jpg", "image/jpeg",
    )  # fmt: skip
    yield Case(
        "polyglot_tiff_magic_html", 422, why.format("TIFF magic + HTML"), b"II*\x00" + html, "tif"
    )
    yield Case(
        "polyglot_gif_with_pdf_marker", 422,
        "a GIF with '%PDF-' in its first KiB is sniffed as PDF (junk before the header is "
        "legal) and holds no PDF object",
        b"GIF89a" + b"\x00" * 100 + b"%PDF-1.7\n" + b"\x00" * 200, "gif",
    )  # fmt: skip
    bad_crc = bytearray(good)
    bad_crc[29] ^= 0xFF  # the IHDR checksum
    yield Case("png_bad_ihdr_crc", 422, "the IHDR chunk fails its CRC", bytes(bad_crc))
    yield Case(
        "png_bad_color_type", 422, "IHDR color type 9 does not exist",
        png_of(10, 10, zlib.compress(b"\x00" * 110), color=9),
    )  # fmt: skip


def _fields(good: bytes) -> Iterator[Case]:
    ff = b"\xff\xfe"
    bad_utf8 = "a non-UTF-8 `{}` field (bytes ff fe) is no valid value"
    for name in ("policy", "ocr", "page", "latency_budget_ms", "full_depth"):
        yield Case(
            f"field_{name}_not_utf8", 422, bad_utf8.format(name), good, fields={name: hexed(ff)}
        )
    yield Case(
        "filename_not_utf8", 415, "a non-UTF-8 file name must not break the answer about the "
        "file (text, refused as a type)", b"plain text", ext="txt",
        filename=hexed(b"\xff\xfepage\x00.png"),
    )  # fmt: skip
    yield Case(
        "file_field_name_not_utf8", 422, "the file part's field name is not `file`: no file sent",
        good, file_field=hexed(b"fil\xff"),
    )  # fmt: skip
    yield Case("missing_file", 422, "no file part at all", None, fields={"page": "0"})
    yield Case(
        "file_as_text_field", 422, "`file` sent as a text field, not a file", None,
        fields={"file": "page.png"},
    )  # fmt: skip
    for value in ("-1", "0", "NaN", "inf", "-inf", "1e12", "1000000000000", "600001", "fast",
                  "1.5"):  # fmt: skip
        why = f"latency budget {value!r}: not a whole number of ms in (0, 600000]"
        slug = value.replace(".", "_").replace("-", "minus")
        yield Case(f"budget_form_{slug}", 422, why, good, fields={"latency_budget_ms": value})
        yield Case(f"budget_header_{slug}", 422, why, good, headers={"X-Latency-Budget-Ms": value})
    yield Case(
        "budget_header_not_latin1", 422, "a budget header of raw bytes ff fe", good,
        headers={"X-Latency-Budget-Ms": hexed(ff)},
    )  # fmt: skip
    for value in ("-1", "one", "1.5", "100001", "1e3", "0x10"):
        slug = value.replace(".", "_").replace("-", "minus")
        why = f"page {value!r}: not a whole number in [0, 100000]"
        yield Case(f"page_{slug}", 422, why, good, fields={"page": value})
    yield Case("page_1_of_1", 422, "page 1 of a 1-page PNG", good, fields={"page": "1"})
    policies = {
        "unknown": ("no-such-policy", "a policy name the checkpoint has no point for"),
        "nul": ("global\x00", "a policy name with a NUL byte"),
        "long": ("g" * 5000, "a policy over its 4096-character limit"),
        "bad_json": ('{"name": "global", "tau": }', "a JSON policy that does not parse"),
        "json_array": ('["global", 0.9]', "a JSON array is no policy name"),
        "tau_text": ('{"name": "global", "tau": "high"}', "a threshold that is no number"),
        "tau_nan": ('{"name": "global", "tau": NaN}', "a NaN threshold never compares"),
        "taus_text": ('{"name": "per_exit", "taus": "all"}', "per-exit thresholds not a map"),
        "taus_values": ('{"name": "per_exit", "taus": {"mm.1": [1]}}', "a threshold list"),
        "patience_text": ('{"name": "patience", "k": "2"}', "patience k must be an integer"),
        "unknown_knob": ('{"name": "global", "beta": 1}', "a knob the policy does not have"),
        "deep_json": ('{"a": ' + "[" * 4000, "JSON nested 4000 deep, within the 4096 limit"),
    }
    for slug, (value, why) in policies.items():
        yield Case(f"policy_{slug}", 422, why, good, fields={"policy": value})
    word = {"text": "total", "box": [10, 10, 60, 30]}
    ocrs = {
        "not_json": ("these are my words", "not JSON"),
        "array": ("[]", "a JSON array, not an object with words"),
        "words_text": ('{"words": "total due"}', "words is not a list"),
        "short_box": ('{"words": [{"text": "a", "box": [1, 2]}]}', "a box of 2 numbers"),
        "inverted_box": ('{"words": [{"text": "a", "box": [50, 50, 10, 10]}]}', "x1 < x0"),
        "nan_box": ('{"words": [{"text": "a", "box": [NaN, 0, 1, 1]}]}', "a NaN coordinate"),
        "inf_box": (
            '{"words": [{"text": "a", "box": [0, 0, Infinity, Infinity]}]}',
            "an infinite coordinate places no word",
        ),
        "huge_box": ('{"words": [{"text": "a", "box": [0, 0, 1e999, 5]}]}', "1e999 overflows"),
        "long_text": (
            json.dumps({"words": [{"text": "x" * 201, "box": [0, 0, 1, 1]}]}),
            "a 201-character word",
        ),
        "too_many_words": (
            json.dumps({"words": [word] * (LIMITS["DOCEXIT_MAX_OCR_WORDS"] + 1)}),
            "one word over DOCEXIT_MAX_OCR_WORDS",
        ),
        "zero_size": ('{"words": [], "size": [0, 0]}', "a page size of 0x0 to scale boxes from"),
        "deep": ("[" * 100_000, "JSON nested 100000 deep"),
    }
    for slug, (value, why) in ocrs.items():
        yield Case(f"ocr_{slug}", 422, why, good, fields={"ocr": value})


def _sizes(good: bytes) -> Iterator[Case]:
    limit = LIMITS["DOCEXIT_MAX_UPLOAD_BYTES"]
    yield Case(
        "ocr_over_1mib", 413, "an `ocr` text field over the form parser's 1 MiB per field",
        good, fields={"ocr": json.dumps({"words": [], "pad": "x" * MIB})},
    )  # fmt: skip
    yield Case(
        "too_many_fields", 413, "1001 form fields, over the form parser's 1000",
        good, fields={f"f{i}": "x" for i in range(1001)},
    )  # fmt: skip
    yield Case(
        "upload_one_byte_over", 413, f"{limit + 1} bytes, over DOCEXIT_MAX_UPLOAD_BYTES={limit}",
        good + b"\x00" * (limit + 1 - len(good)),
    )  # fmt: skip
    yield Case(
        "upload_far_over", 413, "a body past the limit plus the form allowance: refused from "
        "its Content-Length before it is read", good + b"\x00" * (limit + 3 * MIB),
    )  # fmt: skip


def cases() -> list[Case]:
    good = good_page()
    noise_png = _save(_noise((256, 256), 1), "PNG")
    noise_jpeg = _save(_noise((256, 256), 2), "JPEG", quality=90)
    tiff = _save(_noise((64, 64), 3), "TIFF")
    out = [
        *_formats(good),
        *_truncated(noise_png, noise_jpeg, tiff),
        *_bombs(noise_jpeg),
        *_multipage(),
        *_pdfs(),
        *_polyglots(good, noise_png),
        *_fields(good),
        *_sizes(good),
    ]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def build(out: Path) -> dict[str, Any]:
    """Write every case's file, the control page (good.png) and manifest.json into out."""
    out.mkdir(parents=True, exist_ok=True)
    good = good_page()
    (out / "good.png").write_bytes(good)
    entries = []
    for case in cases():
        entry = case.entry()
        if case.data is not None:
            (out / entry["file"]).write_bytes(case.data)
        entries.append(entry)
    manifest = {
        "limits": LIMITS,
        "control": {"file": "good.png", "content_type": "image/png", "status": 200},
        "cases": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def multipart(entry: dict[str, Any], folder: Path) -> tuple[bytes, str]:
    """A case's request body, encoded by hand (clients refuse non-UTF-8 names): (body, the
    request's Content-Type)."""
    parts = []
    for name, value in entry["fields"].items():
        disposition = b'form-data; name="' + raw(name) + b'"'
        parts.append(b"Content-Disposition: " + disposition + b"\r\n\r\n" + raw(value))
    if entry["file"] is not None:
        disposition = (
            b'form-data; name="' + raw(entry["file_field"]) + b'"; filename="'
            + raw(entry["filename"]) + b'"'
        )  # fmt: skip
        head = b"Content-Disposition: " + disposition + b"\r\n"
        head += b"Content-Type: " + entry["content_type"].encode() + b"\r\n\r\n"
        parts.append(head + (folder / entry["file"]).read_bytes())
    sep = b"--" + BOUNDARY.encode()
    body = b"".join(sep + b"\r\n" + p + b"\r\n" for p in parts) + sep + b"--\r\n"
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def headers(entry: dict[str, Any]) -> dict[str, bytes]:
    return {name: raw(value) for name, value in entry["headers"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the corpus to")
    manifest = build(parser.parse_args().out)
    statuses: dict[int, int] = {}
    for entry in manifest["cases"]:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    summary = dict(sorted(statuses.items()))
    print(f"{len(manifest['cases'])} cases, by expected status: {summary}")  # noqa: T201


if __name__ == "__main__":
    main()
