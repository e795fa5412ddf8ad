"""Office engine: Word documents of our own design written with python-docx, converted to PDF by
LibreOffice (headless, one run per batch), rasterised with their text layer by base.pdf_pages.

    pages = render_batch([("letter", 0), ("memo", 1)])  # one list of EnginePage per job

Only the first page is kept, except where a class naturally runs longer (letters, resumes):
there every page up to MAX_PAGES becomes its own EnginePage with record["page"] set."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument

from models.data.engines import (
    office_flyer,
    office_forms,
    office_invoice,
    office_letters,
    office_press,
    office_reports,
    office_resume,
    office_text,
)
from models.data.engines.base import EnginePage, pdf_pages
from models.data.engines.convert import soffice_to_pdf
from models.data.engines.office_page import setup
from models.data.engines.office_theme import Ctx, make_theme

ENGINE = "office"
Template = Callable[[DocxDocument, Ctx], str]

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "letter": (office_letters.letter,),
    "memo": (office_letters.memo,),
    "invoice": (office_invoice.invoice,),
    "form": (office_forms.form,),
    "questionnaire": (office_forms.questionnaire,),
    "resume": (office_resume.resume,),
    "specification": (office_reports.specification,),
    "scientific_report": (office_reports.scientific_report,),
    "news_article": (office_press.newsletter,),
    "file_folder": (office_press.file_folder,),
    "advertisement": (office_flyer.flyer,),
}
MAX_PAGES: dict[str, int] = {"letter": 2, "resume": 2, "memo": 2}
MIN_WORDS_EXTRA_PAGE = 40


def labels() -> tuple[str, ...]:
    """The classes this engine renders."""
    return tuple(TEMPLATES)


def build(label: str, seed: int) -> tuple[DocxDocument, dict[str, Any]]:
    """The .docx for (label, seed) and its manifest record (without page number)."""
    if label not in TEMPLATES:
        raise ValueError(f"office engine has no template for {label!r}; it has {labels()}")
    rng = random.Random(f"{ENGINE}:{label}:{seed}")
    ctx = Ctx(rng=rng, fake=office_text.faker(rng), theme=make_theme(rng), label=label)
    doc = docx.Document()
    setup(doc, ctx.theme, paper=rng.choice(("letter", "letter", "a4")))
    template = rng.choice(TEMPLATES[label])(doc, ctx)
    sources = dict(ctx.sources)
    sources.setdefault(office_text.FAKER_SOURCE, office_text.FAKER_LICENCE)
    record = {
        "engine": ENGINE,
        "template": template,
        "seed": seed,
        "label": label,
        "text_source": "; ".join(sorted(sources)),
        "licence": "; ".join(sorted(set(sources.values()))),
        "font": ctx.theme.body,
    }
    return doc, record


def render_batch(
    jobs: list[tuple[str, int]], workdir: Path | None = None
) -> list[list[EnginePage]]:
    """Render (label, seed) jobs with one LibreOffice run. A job whose conversion failed gets an
    empty list (logged by convert); a missing soffice raises ConverterMissing."""
    with tempfile.TemporaryDirectory(prefix="docexit-office-", dir=workdir) as tmp:
        root = Path(tmp)
        sources, records = [], []
        for i, (label, seed) in enumerate(jobs):
            doc, record = build(label, seed)
            path = root / f"job{i:05d}.docx"
            doc.save(str(path))
            sources.append(path)
            records.append(record)
        pdfs = soffice_to_pdf(sources, root / "pdf")
        return [_pages(pdf, record) for pdf, record in zip(pdfs, records, strict=True)]


def render(label: str, seed: int) -> list[EnginePage]:
    return render_batch([(label, seed)])[0]


def _pages(pdf: Path | None, record: dict[str, Any]) -> list[EnginePage]:
    if pdf is None:
        return []
    pages = pdf_pages(pdf)[: MAX_PAGES.get(record["label"], 1)]
    # A last page holding only a closing line or two is a spill-over, not a natural page.
    while len(pages) > 1 and len(pages[-1].words) < MIN_WORDS_EXTRA_PAGE:
        pages.pop()
    for number, page in enumerate(pages, 1):
        page.record = dict(record, page=number, pages=len(pages))
    return pages
