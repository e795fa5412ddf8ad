"""Corpus v2: every engine's pages land in the synth layout with their provenance, the plan is
fixed by the seed, and an interrupted run resumes without rendering a page twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from freezegun import freeze_time
from PIL import Image

from models.data import corpus
from models.data.engines import html, office, sheets
from models.data.engines.base import EnginePage
from models.dataset import PageDataset

CLASSES = ("budget", "memo")  # between them: every engine of corpus v2
RECORD_KEYS = {"engine", "template", "seed", "label", "text_source", "licence", "words"}


def test_the_plan_mixes_the_engines_that_render_each_class() -> None:
    jobs = corpus.plan(200, 0, (0.8, 0.1, 0.1), ("budget", "memo", "email"))
    assert corpus.plan(200, 0, (0.8, 0.1, 0.1), ("budget", "memo", "email")) == jobs
    engines = {label: Counter(j.engine for j in jobs if j.label == label) for label in CLASSES}
    assert set(engines["budget"]) == {"synth", "html", "sheets"}  # no Word budget template
    assert set(engines["memo"]) == {"synth", "html", "office"}
    memo = engines["memo"]
    assert memo["synth"] < memo["html"]  # the PIL generator is one look among many
    assert Counter(j.split for j in jobs if j.label == "email") == {
        "train": 160,
        "val": 20,
        "test": 20,
    }


def test_pages_of_every_engine_are_written_with_provenance(tmp_path: Path) -> None:
    summary = corpus.generate(tmp_path, 8, seed=1, classes=CLASSES, progress=False)
    assert summary["rendered_now"] == 16
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*/*/*.json")]
    assert {r["engine"] for r in records} == {"synth", "html", "office", "sheets"}
    for record in records:
        assert RECORD_KEYS <= set(record), record["id"]
        assert record["label"] in CLASSES and record["text_source"] and record["licence"]
        png = tmp_path / record["split"] / record["label"] / f"{record['id']}.png"
        image = Image.open(png)
        assert image.mode == "L" and max(image.size) <= 1000 and record["words"]
    scanned = [r for r in records if r.get("scan")]
    assert scanned and all(r["engine"] != "synth" for r in scanned)
    dataset = PageDataset(tmp_path / "train", image_size=64, max_tokens=32, page_fit="letterbox")
    assert len(dataset) == len(list((tmp_path / "train").glob("*/*.png")))
    assert dataset[0].text.input_ids.shape[0] > 2  # words reach the model

    again = corpus.generate(tmp_path, 8, seed=1, classes=CLASSES, progress=False)
    assert again["rendered_now"] == 0  # resumed: nothing left to do


def test_a_batch_writes_every_page_of_a_multi_page_document(tmp_path: Path) -> None:
    job = corpus.Job("train", "memo", 3, 11, "html")
    page = corpus.ENGINES["html"][0]([("memo", 11)])[0][0]
    corpus.write(tmp_path, job, page, "")
    corpus.write(tmp_path, job, EnginePage(page.image, page.words, page.record), "-p2")
    assert sorted(p.name for p in (tmp_path / "train" / "memo").glob("*.png")) == [
        "memo-000003-p2.png",
        "memo-000003.png",
    ]


def documents() -> list[str]:
    """Every engine's document source for every class it renders, seeds 0-2, as text."""
    out = []
    for seed in range(3):
        out += [html.build(label, seed)[0] for label in html.labels()]
        out += [office.build(label, seed)[0].element.xml for label in office.labels()]
        for label in sheets.labels():
            book = sheets.build(label, seed)[0]
            for ws in book.worksheets:
                cells = [str(c.value) for row in ws.iter_rows() for c in row]
                out.append("|".join([*cells, ws.oddHeader.right.text or ""]))
    return out


def test_documents_do_not_depend_on_the_day_they_are_made() -> None:
    """Faker's relative dates read the clock; the engines draw dates around a fixed day."""
    with freeze_time("2026-01-15"):
        made_now = documents()
    with freeze_time("2031-07-01"):
        assert documents() == made_now
