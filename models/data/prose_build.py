"""Rebuild data/prose/passages.jsonl (read by models.data.prose) from installed Debian
documentation packages:

    make prose          # or: .venv/bin/python -m models.data.prose_build

It reads the reStructuredText sources of two Debian packages, which must be installed:
python3.11-doc (/usr/share/doc/python3.11/html/_sources: tutorial, howto, faq, reference,
whatsnew, library; PSF-2.0) and developers-reference
(/usr/share/doc/developers-reference/docs/_sources; GPL-2.0-only), and asks dpkg-query for their
versions, which each passage's source names. The extract is committed, so corpus generation never
needs these packages; this module only documents (and reproduces) where every passage came from.
Only running prose from reStructuredText (or Sphinx' text output) is kept: headings become
titles, code, tables, lists and directives are dropped, inline markup is reduced to its text."""

from __future__ import annotations

import gzip
import json
import logging
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tqdm import tqdm

from models.data.prose import PASSAGES as OUT

log = logging.getLogger(__name__)

PYDOC = Path("/usr/share/doc/python3.11/html/_sources")
# (package, file or folder, licence SPDX id, topic or None = decided by file name)
SOURCES: tuple[tuple[str, Path, str, str | None], ...] = (
    ("python3.11-doc", PYDOC / "tutorial", "PSF-2.0", "programming"),
    ("python3.11-doc", PYDOC / "howto", "PSF-2.0", "programming"),
    ("python3.11-doc", PYDOC / "faq", "PSF-2.0", "programming"),
    ("python3.11-doc", PYDOC / "reference", "PSF-2.0", "language"),
    ("python3.11-doc", PYDOC / "whatsnew", "PSF-2.0", "release-notes"),
    ("python3.11-doc", PYDOC / "library", "PSF-2.0", None),
    # Not debian-policy: data/realval renders its pages as real validation documents.
    (
        "developers-reference",
        Path("/usr/share/doc/developers-reference/docs/_sources"),
        "GPL-2.0-only",
        "procedures",
    ),
)
# Library modules by theme, matched on the file name's start; the rest is "library".
LIBRARY_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "networking",
        (
            "socket",
            "ssl",
            "http",
            "url",
            "email",
            "smtp",
            "imap",
            "pop",
            "ftp",
            "ipaddress",
            "asyncio",
            "select",
            "xmlrpc",
            "wsgi",
            "internet",
            "mail",
        ),
    ),
    (
        "data",
        (
            "json",
            "csv",
            "sqlite",
            "pickle",
            "shelve",
            "dbm",
            "xml",
            "struct",
            "array",
            "collections",
            "datatypes",
            "persistence",
            "marshal",
            "plistlib",
            "configparser",
        ),
    ),
    (
        "files",
        (
            "os",
            "pathlib",
            "shutil",
            "tempfile",
            "glob",
            "filesys",
            "zip",
            "tar",
            "gzip",
            "bz2",
            "lzma",
            "zlib",
            "archiving",
            "io",
            "fileinput",
            "stat",
        ),
    ),
    (
        "concurrency",
        (
            "thread",
            "multiprocessing",
            "concurrent",
            "subprocess",
            "sched",
            "queue",
            "signal",
            "contextvars",
        ),
    ),
    (
        "mathematics",
        ("math", "cmath", "decimal", "fractions", "random", "statistics", "numbers", "numeric"),
    ),
    ("security", ("hashlib", "hmac", "secrets", "crypt", "security", "audit")),
    (
        "text",
        (
            "string",
            "re",
            "textwrap",
            "unicodedata",
            "codecs",
            "locale",
            "gettext",
            "difflib",
            "text",
            "i18n",
        ),
    ),
)
UNDERLINE = re.compile(r"^([=\-~*^\"#+'`])\1{2,}\s*$")
INLINE = (
    (re.compile(r":[\w:+-]+:`~?([^`<]*?)\s*(<[^>]*>)?`"), r"\1"),  # :role:`text <target>`
    (re.compile(r"`([^`<]+?)\s*<[^>]+>`__?"), r"\1"),  # `text <url>`_
    (re.compile(r"``([^`]+)``"), r"\1"),
    (re.compile(r"`([^`]+)`_{0,2}"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),
    (re.compile(r"\*([^*\s][^*]*)\*"), r"\1"),
    (re.compile(r"\s*\[(#[\w-]*|\d+)\]_?"), ""),  # footnote references
    (re.compile(r"\\(.)"), r"\1"),
    (re.compile(r"\s+"), " "),
)
MIN_PARAGRAPH_WORDS = 18


def topic_of(path: Path, fixed: str | None) -> str:
    if fixed:
        return fixed
    name = path.name.lower()
    for topic, prefixes in LIBRARY_TOPICS:
        if name.startswith(prefixes):
            return topic
    return "library"


def clean(text: str) -> str:
    for pattern, repl in INLINE:
        text = pattern.sub(repl, text)
    return text.strip()


def clean_title(line: str) -> str:
    title = clean(line)
    title = re.sub(r"^[\w.]+\s+---\s+", "", title)  # "json --- JSON encoder" -> "JSON encoder"
    title = re.sub(r"^(Appendix\s+)?[\dA-Z]+(\.\d+)*\.\s+", "", title)  # policy numbering
    return title[:1].upper() + title[1:]


# Names of the sources reserved for independent evaluation (DEVELOPERS.md).
RESERVED = re.compile(
    r"texlive|tex live|\blyx\b|libreoffice templates|r-cran|cran|vignette|shared-mime-info|"
    r"libtasn1|auto-multiple-choice|spamassassin|ocrmypdf|jbigkit",
    re.IGNORECASE,
)


def good_paragraph(text: str) -> bool:
    """Running prose: whole sentences, mostly plain words, no leftover markup or code."""
    words = text.split()
    if len(words) < MIN_PARAGRAPH_WORDS or not text.endswith(".") or not text[0].isupper():
        return False
    if re.search(r"[`|{}<>\[\]\\]|::|>>>|\.\.\s|__|\w\(\)|=", text):
        return False
    if RESERVED.search(text):  # not even a mention of a source kept for independent evaluation
        return False
    plain = sum(bool(re.fullmatch(r"[A-Za-z][a-z'’-]*[.,;:!?)]?", w)) for w in words)
    return plain / len(words) >= 0.75


def blocks(lines: list[str]) -> Iterator[tuple[str, str]]:
    """("title", text) for each heading and ("para", text) for each plain text block; indented
    blocks (code, quotes, directive bodies), lists and definition lists are skipped whole."""
    block: list[str] = []
    skip = False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if UNDERLINE.match(line) and block == [] and not skip:
            continue  # the underline of a heading already yielded
        if line.strip() and UNDERLINE.match(nxt) and not block and not skip:
            yield "title", clean_title(line)
            continue
        if not line.strip():
            if block and not skip:
                yield "para", " ".join(block)
            block, skip = [], False
        elif line[0].isspace() or line.startswith(("..", "* ", "- ", "+ ", "#. ", "|")):
            skip = True
        else:
            block.append(line.strip())


def passages(text: str, source: str, licence: str, topic: str) -> Iterator[dict[str, object]]:
    title, paragraphs = "", list[str]()
    for kind, value in [*blocks(text.splitlines()), ("title", "")]:
        if kind == "title":
            if title and paragraphs and 3 <= len(title.split()) + 2 <= 14:
                yield {
                    "title": title,
                    "paragraphs": paragraphs,
                    "source": source,
                    "licence": licence,
                    "topic": topic,
                }
            title, paragraphs = value, []
            continue
        para = clean(value)
        if good_paragraph(para):
            paragraphs.append(para)


@cache
def version(package: str) -> str:
    """The installed Debian package's version (dpkg-query)."""
    return subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def source_files() -> list[tuple[str, Path, str, str | None]]:
    """(package, file, licence, fixed topic) for every source file, in extraction order."""
    found: list[tuple[str, Path, str, str | None]] = []
    for package, root, licence, fixed in SOURCES:
        files = sorted(root.rglob("*.txt")) if root.is_dir() else [root]
        found.extend((package, path, licence, fixed) for path in files)
    return found


def main() -> None:
    """Extract the passages of every source file and write them to OUT, one JSON object a line."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out: list[dict[str, object]] = []
    files = source_files()
    for package, path, licence, fixed in tqdm(files, unit="file", desc="prose"):
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
        source = f"debian:{package} {version(package)}:{path}"
        out.extend(passages(text, source, licence, topic_of(path, fixed)))
    with OUT.open("w", encoding="utf-8") as f:
        for item in out:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    per_package = Counter(str(item["source"]).split(" ")[0] for item in out)
    log.info("%d passages from %d files -> %s", len(out), len(files), OUT)
    for package, count in sorted(per_package.items()):
        log.info("  %s: %d passages", package, count)


if __name__ == "__main__":
    main()
