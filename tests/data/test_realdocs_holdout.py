"""Held-out real documents: whole documents move, with their OCR, and a rebuild moves the same."""

from __future__ import annotations

import json
from pathlib import Path

from models.data.realdocs import hold_out


def _built(out: Path, docs: dict[str, int]) -> list[dict[str, str]]:
    """A built folder: `docs` maps class/document to its page count; each page has OCR."""
    records = []
    for key, pages in docs.items():
        label, doc = key.split("/")
        (out / label).mkdir(parents=True, exist_ok=True)
        for page in range(pages):
            page_id = f"{doc}-p{page + 1:03d}"
            (out / label / f"{page_id}.png").write_bytes(b"png")
            (out / label / f"{page_id}.ocr-tesseract.json").write_text("{}")
            records.append({"id": page_id, "class": label, "sha256_source": f"{doc}-sha"})
    (out / "manifest.json").write_text(json.dumps(records))
    return records


def test_every_fourth_document_per_class_moves_whole(tmp_path: Path) -> None:
    out, held = tmp_path / "train", tmp_path / "cal"
    docs = {f"memo/m{i}": 2 for i in range(8)} | {"letter/l0": 3, "letter/l1": 1}
    records = _built(out, docs)
    moved = hold_out(out, held)
    assert sorted({r["sha256_source"] for r in moved}) == ["m3-sha", "m7-sha"]
    suffixes = ("png", "ocr-tesseract.json")
    assert sorted(p.name for p in (held / "memo").iterdir()) == sorted(
        f"m{d}-p00{p}.{ext}" for d in (3, 7) for p in (1, 2) for ext in suffixes
    )
    assert not list(out.glob("memo/m3-*")) and not (held / "letter").exists()  # two: both kept
    kept = json.loads((out / "manifest.json").read_text())
    listed = json.loads((held / "manifest.json").read_text())
    assert {r["id"] for r in kept} | {r["id"] for r in listed} == {r["id"] for r in records}
    assert not {r["id"] for r in kept} & {r["id"] for r in listed}


def test_a_rebuild_holds_out_the_same_documents(tmp_path: Path) -> None:
    out, held = tmp_path / "train", tmp_path / "cal"
    docs = {f"invoice/i{i}": 1 for i in range(4)}
    _built(out, docs)
    first = hold_out(out, held)
    (held / "invoice" / "i3-p001.ocr-tesseract.json").write_text('{"words": []}')  # OCR'd
    _built(out, docs)  # the build writes every page again, the held-out ones included
    (out / "invoice" / "i3-p001.ocr-tesseract.json").unlink()  # not yet OCR'd there
    second = hold_out(out, held)
    assert [r["id"] for r in second] == [r["id"] for r in first] == ["i3-p001"]
    assert json.loads((held / "invoice" / "i3-p001.ocr-tesseract.json").read_text()) == {
        "words": []
    }
    assert len(json.loads((held / "manifest.json").read_text())) == 1
