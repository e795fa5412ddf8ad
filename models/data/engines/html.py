"""HTML engine: pages of our own HTML/CSS templates laid out by WeasyPrint into a PDF, rasterised
with their text layer by base.pdf_pages.

    page = render("invoice", 3)            # one EnginePage
    pages = render_batch([("memo", 0), ("presentation", 1)])

Templates live in html_<family>.py; each takes a Ctx (seeded rng, Faker, random theme) and returns
(body HTML, extra CSS). One page of the PDF is kept: the first, which templates are sized to fill,
unless the template asks for a later one (Ctx.page: long printouts whose later pages users send)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from types import ModuleType

from PIL import ImageFile

from models.data.engines import (
    html_docs,
    html_forms,
    html_mail,
    html_misc,
    html_press,
    html_science,
    html_slides,
    html_tables,
)
from models.data.engines.base import EnginePage, pdf_pages
from models.data.engines.html_style import Ctx, base_css, new_ctx

ENGINE = "html"
Template = Callable[[Ctx], tuple[str, str]]

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "letter": html_docs.LETTER,
    "memo": html_docs.MEMO,
    "email": html_docs.EMAIL + html_mail.MAIL,
    "resume": html_docs.RESUME,
    "scientific_publication": html_science.PUBLICATION,
    "scientific_report": html_science.REPORT,
    "specification": html_science.SPECIFICATION,
    "invoice": html_tables.INVOICE,
    "budget": html_tables.BUDGET,
    "form": html_forms.FORM,
    "questionnaire": html_forms.QUESTIONNAIRE,
    "news_article": html_press.NEWS,
    "advertisement": html_press.ADVERTISEMENT,
    "presentation": html_slides.PRESENTATION,
    "handwritten": html_misc.HANDWRITTEN,
    "file_folder": html_misc.FILE_FOLDER,
}
# WeasyPrint logs every CSS property it ignores; our templates are known, so keep logs quiet.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def labels() -> tuple[str, ...]:
    """The classes this engine renders."""
    return tuple(TEMPLATES)


def build(label: str, seed: int) -> tuple[str, dict[str, object]]:
    """The HTML document for (label, seed) and its manifest record."""
    if label not in TEMPLATES:
        raise ValueError(f"html engine has no template for {label!r}; it has {labels()}")
    ctx = new_ctx(seed, label)
    template = ctx.rng.choice(TEMPLATES[label])
    body, css = template(ctx)
    text_source, licence = ctx.record()
    record: dict[str, object] = {
        "engine": ENGINE,
        "template": f"{template.__module__.rsplit('.', 1)[-1]}.{template.__name__}",
        "seed": seed,
        "label": label,
        "text_source": text_source,
        "licence": licence,
        "font": ctx.theme.body,
        "page": ctx.page + 1,  # wanted; render() records the page it kept
    }
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><style>{base_css(ctx)}'
        f"{css}</style></head><body>{body}</body></html>"
    )
    return page, record


def to_pdf(document: str) -> bytes:
    weasyprint = _weasyprint()
    pdf = weasyprint.HTML(string=document, base_url=None).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


@functools.cache
def _weasyprint() -> ModuleType:
    """WeasyPrint, imported on first use (loading Pango takes a second). Its import switches on
    Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would make every later decode in the
    process accept cut-off files (the service's upload checks among them, in one test run):
    the flag is put back, as our templates embed no raster images."""
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint

    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return weasyprint


def render(label: str, seed: int) -> EnginePage:
    """The page of (label, seed) its template asked for (counted round if the PDF is shorter),
    with its record."""
    document, record = build(label, seed)
    pages = pdf_pages(to_pdf(document))
    number = (int(str(record["page"])) - 1) % len(pages) + 1
    page = pages[number - 1]
    page.record = {**record, "page": number, "pages": len(pages)}
    return page


def render_batch(jobs: list[tuple[str, int]]) -> list[EnginePage]:
    """render() for each (label, seed); WeasyPrint has no start-up cost per page to share, so
    this is a loop, kept for the same call shape as the other engines."""
    return [render(label, seed) for label, seed in jobs]
