"""Render one page of a real source file as a grayscale image with a 1000 px long side.

PDF pages go through pypdfium2; PostScript is first distilled to PDF by ghostscript (so page
numbers mean the same for both); RFC 822 messages are printed like a mail client would (header
block, then body, continued over as many pages as needed) in DejaVu Sans Mono at 100 dpi on a
US-letter page; ``email-image`` takes the largest image attached to a message (image spam: the
advertisement is the picture, not the text); ``image`` is a scanned page shipped as an image file.
"""

from __future__ import annotations

import email
import email.policy
import io
import subprocess
import tempfile
import textwrap
from email.message import EmailMessage
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont

LONG_SIDE = 1000
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PAGE_W, PAGE_H, MARGIN, FONT_PX, LINE_PX, COLS = 850, 1100, 75, 13, 16, 80  # letter @ 100 dpi
LINES_PER_PAGE = (PAGE_H - 2 * MARGIN) // LINE_PX


def to_long_side(img: Image.Image) -> Image.Image:
    """Grayscale ``img`` scaled so its long side is exactly ``LONG_SIDE`` px."""
    img = img.convert("L")
    scale = LONG_SIDE / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def ps_to_pdf(data: bytes) -> bytes:
    """Distil PostScript to PDF with ghostscript (``-dSAFER``: the file is untrusted input)."""
    with tempfile.TemporaryDirectory(prefix="realdocs-gs-") as tmp:
        src, dst = Path(tmp) / "in.ps", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        cmd = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite"]
        subprocess.run([*cmd, f"-sOutputFile={dst}", str(src)], check=True, capture_output=True)
        return dst.read_bytes()


def render_pdf(data: bytes, page: int) -> Image.Image:
    """Render one 0-based PDF page at the resolution that gives a 1000 px long side."""
    doc = pdfium.PdfDocument(data)
    try:
        pdf_page = doc[page]
        scale = LONG_SIDE / max(pdf_page.get_size())
        return to_long_side(pdf_page.render(scale=scale, grayscale=True).to_pil())
    finally:
        doc.close()


def parse_email(data: bytes) -> EmailMessage:
    """Parse RFC 822 bytes with the modern policy (so parts have ``get_content``)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _header_lines(msg: EmailMessage) -> list[tuple[str, bool]]:
    lines: list[tuple[str, bool]] = []
    for name in ("From", "To", "Cc", "Date", "Subject"):
        if msg[name] is not None:
            value = " ".join(str(msg[name]).split())
            for i, chunk in enumerate(textwrap.wrap(f"{name}: {value}", COLS) or [""]):
                lines.append(((" " * 4 if i else "") + chunk, True))
    return [*lines, ("", False)]


def email_lines(msg: EmailMessage, depth: int = 0) -> list[tuple[str, bool]]:
    """Printout lines ``(text, is_header)`` of a message: headers, then text parts."""
    lines = _header_lines(msg)
    for part in msg.walk() if msg.is_multipart() else [msg]:
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part is not msg:
            lines.append(("---------- Forwarded message ----------", False))
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage):
                lines += email_lines(inner[0], depth + 1) if depth < 2 else []
            break
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text" and part.get_filename() is None:
            try:
                body = str(part.get_content())
            except (LookupError, ValueError, AssertionError):
                body = str(part.get_payload())
            for raw in body.expandtabs().splitlines():
                lines += [(w, False) for w in textwrap.wrap(raw, COLS) or [""]]
        else:
            lines.append((f"[Attachment: {part.get_filename() or 'unnamed'} ({ctype})]", False))
    return lines


def email_page_count(data: bytes) -> int:
    """How many printed pages ``render_email`` makes of a message."""
    return -(-len(email_lines(parse_email(data))) // LINES_PER_PAGE)


def render_email(data: bytes, page: int = 0) -> Image.Image:
    """Print page ``page`` of an RFC 822 message: bold header block, then the body."""
    regular = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono.ttf"), FONT_PX)
    bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono-Bold.ttf"), FONT_PX)
    lines = email_lines(parse_email(data))[page * LINES_PER_PAGE : (page + 1) * LINES_PER_PAGE]
    if not lines:
        raise IndexError(f"message has no page {page}")
    img = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(img)
    for i, (text, is_header) in enumerate(lines):
        draw.text((MARGIN, MARGIN + i * LINE_PX), text, fill=0, font=bold if is_header else regular)
    return to_long_side(img)


def render_email_image(data: bytes) -> Image.Image:
    """The largest image attached to a message (first frame of an animation)."""
    images: list[Image.Image] = []
    for part in parse_email(data).walk():
        if part.get_content_maintype() == "image":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                images.append(Image.open(io.BytesIO(payload)))
    # Largest first; spam images are sometimes deliberately broken to fool filters: skip those.
    for image in sorted(images, key=lambda im: im.width * im.height, reverse=True):
        try:
            image.seek(0)
            return to_long_side(image.convert("RGB"))
        except OSError:
            continue
    raise ValueError("message has no readable image attachment")


def render_image(data: bytes) -> Image.Image:
    """A page shipped as an image file (first frame)."""
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        return to_long_side(image.convert("RGB"))


def render(kind: str, data: bytes, page: int) -> Image.Image:
    """Render 0-based ``page`` of ``data`` by ``kind``: pdf, ps, email, email-image, image."""
    if kind == "pdf":
        return render_pdf(data, page)
    if kind == "ps":
        return render_pdf(ps_to_pdf(data), page)
    if kind == "email":
        return render_email(data, page)
    if kind == "email-image":
        return render_email_image(data)
    if kind == "image":
        return render_image(data)
    raise ValueError(f"unknown render kind {kind!r}")
