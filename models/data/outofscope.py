"""Build data/outofscope: freely licensed pages that belong to none of the 16 classes, the pages
abstention (models.ood) is measured against.

    python -m models.data.outofscope --out data/outofscope

Every page comes from a file shipped in a Debian package (``apt-get download`` of an exact
version, then ``dpkg -x``) or in a wheel of the locked environment (requirements/dev.txt), or is
made here from a blank canvas. `outofscope_sources.json` lists them, grouped by package, with
their licence (and the file that states it) and how they are rendered
(models.data.outofscope_render). The folder is ``<kind>/<id>.png`` with ``sources.json`` (per
page: source, package, version, path, licence, rendering, SHA-256 of the source file and of
the PNG). Kinds: photos (scikit-image, scikit-learn and Matplotlib sample images), artwork
(desktop wallpapers), sheet music (the ABC examples of abcm2ps and abcMIDI, typeset by
abcm2ps), maps (Marble's manual's map views, xplanet's world maps, a USGS elevation grid as a
shaded-relief map), screenshots (Marble's settings dialogs), source code printouts (Python,
C headers, Perl, shell) and blank or near-blank paper through scanner looks.

Reserved sources (TeX Live, LyX, LibreOffice templates, R/CRAN, r-doc-pdf, shared-mime-info,
libtasn1, auto-multiple-choice, spamassassin, CPython's e-mail test data, ocrmypdf, jbigkit)
and our own generators' document pages are never used. Kinds the issue names that are not
here: receipts (the real training and validation pools file till receipts under `invoice`, so
they are not out of scope for this model), posters (the `advertisement` class holds them) and
tickets (no freely licensed source found offline)."""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import logging
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from models.data import outofscope_render as render

log = logging.getLogger("docexit.outofscope")


@dataclass(frozen=True)
class Source:
    kind: str  # out-of-scope kind: the page's folder
    origin: str  # "debian", "wheel" (installed from the lock) or "made" (blank canvas)
    package: str
    version: str
    path: str  # the file inside the package
    licence: str
    licence_stated_in: str
    render: str  # image, abc, code, relief, blank (models.data.outofscope_render)
    pages: tuple[int, ...] = (0,)
    options: dict[str, Any] = field(default_factory=dict)

    def page_id(self, page: int) -> str:
        stem = Path(self.path).name.split(".")[0] or "page"
        name = self.options.get("name") or f"{self.package}-{stem}"
        return f"{name}-p{page + 1:03d}".lower().replace("_", "-").replace(".", "-")


SOURCES = Path(__file__).with_name("outofscope_sources.json")
NEGATIVES = Path(__file__).with_name("ood_negatives_sources.json")  # fit on, never measured on


def catalogue(path: Path = SOURCES) -> list[Source]:
    """The pages to make: each group of the source list (one package, licence and rendering,
    several paths) as one Source per path."""
    sources = []
    for group in json.loads(path.read_text()):
        fields = {k: v for k, v in group.items() if k not in ("paths", "pages", "options")}
        pages, options = tuple(group.get("pages", (0,))), group.get("options", {})
        sources += [Source(**fields, path=p, pages=pages, options=options) for p in group["paths"]]
    return sources


class Packages:
    """Where each source's file lies: Debian packages fetched once into `cache`, wheels from
    the installed (locked) environment."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def read(self, source: Source) -> bytes:
        if source.origin == "wheel":
            found = importlib.metadata.version(source.package)
            if found != source.version:
                raise RuntimeError(f"{source.package} {found} installed, the catalogue names "
                                   f"{source.version}: run `make venv`")  # fmt: skip
            dist = importlib.metadata.distribution(source.package)
            return Path(str(dist.locate_file(source.path))).read_bytes()
        root = self.cache / f"{source.package}_{source.version}".replace(":", "_")
        if not (root / "root").is_dir():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            spec = f"{source.package}={source.version}"
            subprocess.run(["apt-get", "download", spec], cwd=root, check=True, capture_output=True)
            (deb,) = root.glob("*.deb")
            subprocess.run(["dpkg", "-x", deb.name, "root"], cwd=root, check=True)
        return (root / "root" / source.path).read_bytes()


def make_page(source: Source, data: bytes, page: int) -> Image.Image:
    o = source.options
    if source.render == "image":
        return render.image_page(data, o.get("side", render.PAGE_SIDE))
    if source.render == "abc":
        return render.abc_page(data, page)
    if source.render == "code":
        name = Path(source.path).name
        filename = f"{name}.sh" if o.get("lexer") == "bash" else name
        return render.code_page(data.decode("utf-8", "replace"), filename)
    if source.render == "relief":
        return render.relief_page(data)
    if source.render == "blank":
        return render.blank_page(o["seed"], o["style"], o.get("mark"))
    raise ValueError(f"unknown rendering {source.render!r}")


def record(source: Source, page: int, data: bytes, png: Path, out: Path) -> dict[str, Any]:
    entry = {k: v for k, v in asdict(source).items() if k not in ("pages", "options")}
    entry |= {
        "id": png.stem,
        "file": str(png.relative_to(out)),
        "page": page + 1,
        "rendered": {"how": source.render, **source.options},
        "sha256_source": hashlib.sha256(data).hexdigest() if source.origin != "made" else None,
        "sha256_png": hashlib.sha256(png.read_bytes()).hexdigest(),
    }
    if source.origin == "wheel":
        entry["url"] = f"https://pypi.org/project/{source.package}/{source.version}/"
    return entry


def build(
    out: Path, cache: Path, progress: bool = True, sources: Path = SOURCES
) -> list[dict[str, Any]]:
    """Every page of the `sources` catalogue into out/<kind>/<id>.png (pages already there are
    kept), and out/sources.json."""
    packages = Packages(cache)
    jobs = [(s, p) for s in catalogue(sources) for p in s.pages]
    records = []
    for source, page in tqdm(jobs, desc="outofscope", unit="page", disable=not progress):
        data = b"" if source.origin == "made" else packages.read(source)
        png = out / source.kind / f"{source.page_id(page)}.png"
        if not png.exists():
            png.parent.mkdir(parents=True, exist_ok=True)
            make_page(source, data, page).save(png, optimize=True)
        records.append(record(source, page, data, png, out))
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        raise RuntimeError("two catalogue pages share an id")
    (out / "sources.json").write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    write_readme(out, records, HEADERS.get(sources.name, HEADERS[SOURCES.name]))
    return records


HEADERS = {  # each catalogue's folder, what it is for
    SOURCES.name: [
        "# outofscope: pages that are none of the 16 classes (abstention is measured on them)",
        "",
        "Rebuild: `make outofscope` (`python -m models.data.outofscope --out data/outofscope`;",
        "source list: `models/data/outofscope_sources.json`). Per-page provenance, licence,",
        "rendering and SHA-256 are in `sources.json`. Never used for training or for setting",
        "the abstention threshold.",
    ],
    NEGATIVES.name: [
        "# ood_negatives: out-of-scope pages the abstention's feature statistics are fit on",
        "",
        "Rebuild: `make ood-negatives` (source list: `models/data/ood_negatives_sources.json`:",
        "files of packages the measured folder, data/outofscope, takes nothing from). Per-page",
        "provenance, licence, rendering and SHA-256 are in `sources.json`. Never measured on.",
    ],
}


def write_readme(out: Path, records: list[dict[str, Any]], header: list[str]) -> None:
    """out/README.md: pages per kind, and per source package its licence and page count."""
    kinds: dict[str, int] = {}
    packages: dict[tuple[str, str, str, str, str], int] = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        key = (r["kind"], r["origin"], r["package"], r["version"], r["licence"])
        packages[key] = packages.get(key, 0) + 1
    lines = [
        *header,
        "",
        "| kind | pages |",
        "| --- | --- |",
        *[f"| {k} | {n} |" for k, n in kinds.items()],
        f"| **total** | **{len(records)}** |",
        "",
        "| kind | origin | package | version | licence | pages |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(key)} | {n} |" for key, n in packages.items()],
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.data.outofscope", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("data/outofscope"))
    parser.add_argument("--cache", type=Path, default=Path("build/outofscope-packages"))
    parser.add_argument("--sources", type=Path, default=SOURCES, help="the catalogue")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("weasyprint", "fontTools"):  # a line per PDF step otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    records = build(args.out, args.cache, sources=args.sources)
    kinds: dict[str, int] = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    log.info("%d pages in %s: %s", len(records), args.out, kinds)


if __name__ == "__main__":
    main()
