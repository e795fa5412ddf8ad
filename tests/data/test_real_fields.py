"""The hand-labelled fields of real validation pages (data/realval/fields.json): every entry is a
page of the folder, of the class it names, and labels only that class's fields, as printed."""

from __future__ import annotations

import json
from pathlib import Path

from models.extract_data import LABELS
from models.fields import field_keys

REALVAL = Path(__file__).resolve().parents[2] / "data" / "realval"


def test_every_labelled_page_is_a_realval_page_with_its_class_fields() -> None:
    rows = json.loads((REALVAL / LABELS).read_text())
    manifest = {r["id"]: r["class"] for r in json.loads((REALVAL / "manifest.json").read_text())}
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert manifest.get(row["id"]) == row["class"], row["id"]
        assert (REALVAL / row["class"] / f"{row['id']}.png").exists()
        assert set(row["fields"]) <= set(field_keys(row["class"])), row
        assert all(isinstance(v, str) and v.strip() == v and v for v in row["fields"].values())
    assert sum(len(r["fields"]) for r in rows) >= 100
