"""The out-of-scope folder: every page accounted for, licensed, traceable, from no reserved
source and from none of our document generators. Offline and fast: only committed files."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from models.data.outofscope import NEGATIVES, SOURCES, catalogue
from tests.data.test_realval import reserved_hit

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "data" / "outofscope"
FIELDS = ("id", "kind", "origin", "package", "path", "licence", "licence_stated_in", "sha256_png")


def records() -> list[dict[str, Any]]:
    return list(json.loads((FOLDER / "sources.json").read_text()))


def test_sources_list_every_page_with_provenance() -> None:
    pages = records()
    on_disk = {p.relative_to(FOLDER).as_posix() for p in FOLDER.glob("*/*.png")}
    assert {p["file"] for p in pages} == on_disk
    assert len({p["id"] for p in pages}) == len(pages)
    for p in pages:
        assert p["file"] == f"{p['kind']}/{p['id']}.png"
        assert all(p.get(k) for k in FIELDS if k != "path" or p["origin"] != "made"), p["id"]
        assert p["origin"] in ("debian", "wheel", "made"), p["id"]
        if p["origin"] != "made":
            assert p["version"] and p["sha256_source"], p["id"]
        png = FOLDER / p["file"]
        assert hashlib.sha256(png.read_bytes()).hexdigest() == p["sha256_png"], p["id"]
        with Image.open(png) as image:
            assert image.mode == "L" and max(image.size) in (640, 1000), p["id"]


def test_no_reserved_source_and_none_of_our_generators() -> None:
    for p in records():
        assert reserved_hit(p) is None, p["id"]
        # Made here means a blank canvas only: no generator document pages.
        assert p["origin"] != "made" or p["rendered"]["how"] == "blank", p["id"]


def test_the_folder_is_what_the_source_list_makes() -> None:
    made = {f"{s.kind}/{s.page_id(page)}.png" for s in catalogue(SOURCES) for page in s.pages}
    assert made == {p["file"] for p in records()}


def test_coverage() -> None:
    kinds = Counter(p["kind"] for p in records())
    assert sum(kinds.values()) >= 100
    assert len(kinds) >= 7 and min(kinds.values()) >= 7


def test_the_negatives_share_no_package_with_the_measured_folder() -> None:
    """data/ood_negatives (fit on, never measured on): provenance as complete, no reserved
    source, and nothing from a package the measured folder takes pages from."""
    folder = ROOT / "data" / "ood_negatives"
    pages = json.loads((folder / "sources.json").read_text())
    on_disk = {p.relative_to(folder).as_posix() for p in folder.glob("*/*.png")}
    assert {p["file"] for p in pages} == on_disk and len(pages) >= 30
    for p in pages:
        assert all(p.get(k) for k in FIELDS) and p["origin"] == "wheel", p["id"]
        assert reserved_hit(p) is None, p["id"]
        png = folder / p["file"]
        assert hashlib.sha256(png.read_bytes()).hexdigest() == p["sha256_png"], p["id"]
    measured = {p["package"] for p in records()}
    assert not measured & {p["package"] for p in pages}
    assert {s.path for s in catalogue(NEGATIVES)} == {p["path"] for p in pages}
