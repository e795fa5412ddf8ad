"""The real-document validation folder: every page accounted for, licensed and traceable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image

from models.data.labels import CLASSES

REALVAL = Path(__file__).resolve().parents[2] / "data" / "realval"
# Reserved for independent evaluation: never a source of ours.
RESERVED = ("texlive", "tex-live", "texdoc", "ctan", "libreoffice")


def test_manifest_lists_every_page_with_provenance() -> None:
    pages = json.loads((REALVAL / "manifest.json").read_text())
    on_disk = {p.relative_to(REALVAL).as_posix() for p in REALVAL.glob("*/*.png")}
    listed = {f"{p['class']}/{p['id']}.png" for p in pages}
    assert listed == on_disk
    assert len({p["id"] for p in pages}) == len(pages)
    for p in pages:
        assert p["class"] in CLASSES
        assert p["licence"] and p["licence_stated_in"] and p["package"] and p["version"]
        where = " ".join(str(p[k]) for k in ("package", "path", "licence_stated_in")).lower()
        assert not any(r in where for r in RESERVED), p["id"]
        png = REALVAL / p["class"] / f"{p['id']}.png"
        assert hashlib.sha256(png.read_bytes()).hexdigest() == p["sha256_png"]
        image = Image.open(png)
        assert image.mode == "L" and max(image.size) == 1000


def test_several_classes_are_covered() -> None:
    classes = {p.parent.name for p in REALVAL.glob("*/*.png")}
    assert len(classes) >= 7
