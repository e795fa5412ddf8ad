"""Sheets engine: workbooks of our own written with openpyxl (one printed sheet each), converted
to PDF by Gnumeric's ssconvert or LibreOffice Calc, rasterised with their text layer.

    pages = render_batch([("budget", 0), ("invoice", 1)])  # one list of EnginePage per job

Each job's converter is drawn from its seed, so both print engines (different grid, font and
page-fitting behaviour) appear; only the first printed page is kept."""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.properties import PageSetupProperties

from models.data.engines import office_text
from models.data.engines.base import EnginePage, pdf_pages
from models.data.engines.convert import ConversionError, soffice_to_pdf, ssconvert_to_pdf
from models.data.engines.dates import YEAR, day
from models.data.engines.sheets_budget import budget
from models.data.engines.sheets_forms import form
from models.data.engines.sheets_invoice import invoice
from models.data.engines.sheets_style import Sheet, new_sheet

log = logging.getLogger(__name__)

ENGINE = "sheets"
CONVERTERS = ("gnumeric", "calc")
TEMPLATES: dict[str, Callable[[Sheet], str]] = {"budget": budget, "invoice": invoice, "form": form}


def labels() -> tuple[str, ...]:
    return tuple(TEMPLATES)


def build(label: str, seed: int, converter: str | None = None) -> tuple[Workbook, dict[str, Any]]:
    """The workbook for (label, seed) and its record; converter overrides the seeded choice."""
    if label not in TEMPLATES:
        raise ValueError(f"sheets engine has no template for {label!r}; it has {labels()}")
    rng = random.Random(f"{ENGINE}:{label}:{seed}")
    chosen = rng.choice(CONVERTERS)
    converter = converter or chosen
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = rng.choice(("Sheet1", "Budget", "Summary", "Data", "Report"))[:31]
    # LibreOffice reads a font-feature suffix in the name and turns ligatures off (a ligature
    # gives two letters one box in the text layer); Gnumeric would not find such a name.
    sheet = new_sheet(ws, rng, office_text.faker(rng), ":-liga" if converter == "calc" else "")
    template = TEMPLATES[label](sheet)
    _page_setup(sheet)
    record = {
        "engine": ENGINE,
        "template": template,
        "seed": seed,
        "label": label,
        "text_source": office_text.FAKER_SOURCE,
        "licence": office_text.FAKER_LICENCE,
        "converter": converter,
        "font": sheet.font.split(":")[0],
    }
    return wb, record


def _page_setup(s: Sheet) -> None:
    """Print settings as people set them: print area, fit to width, gridlines or not."""
    ws, rng = s.ws, s.rng
    ws.print_area = f"A1:{ws.cell(ws.max_row, ws.max_column).coordinate}"
    ws.page_setup.orientation = "landscape" if rng.random() < 0.25 else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER if rng.random() < 0.6 else ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0 if rng.random() < 0.5 else 1
    ws.print_options.gridLines = rng.random() < 0.3
    ws.print_options.horizontalCentered = rng.random() < 0.5
    margin = rng.choice((0.5, 0.75, 1.0))
    ws.page_margins.left = ws.page_margins.right = margin
    ws.page_margins.top = ws.page_margins.bottom = rng.choice((0.6, 0.75, 1.0))
    if rng.random() < 0.5:
        ws.oddFooter.center.text = "Page &P of &N"
    if rng.random() < 0.3:
        # A printed date, written out: the converter's &D field would print the day of the run.
        ws.oddHeader.right.text = day(s.fake, -2 * YEAR, 0).strftime("%m/%d/%Y")
    ws.sheet_view.showGridLines = False


def render_batch(
    jobs: list[tuple[str, int]], workdir: Path | None = None, converter: str | None = None
) -> list[list[EnginePage]]:
    """Render (label, seed) jobs: Calc jobs in one LibreOffice run, Gnumeric ones one ssconvert
    each (it starts in ~0.1 s). A failed job gets an empty list; a missing binary raises."""
    with tempfile.TemporaryDirectory(prefix="docexit-sheets-", dir=workdir) as tmp:
        root = Path(tmp)
        paths, records = [], []
        for i, (label, seed) in enumerate(jobs):
            wb, record = build(label, seed, converter)
            path = root / f"job{i:05d}.xlsx"
            wb.save(str(path))
            paths.append(path)
            records.append(record)
        pdfs: list[Path | None] = [None] * len(jobs)
        calc = [i for i, r in enumerate(records) if r["converter"] == "calc"]
        if calc:
            for i, pdf in zip(
                calc, soffice_to_pdf([paths[i] for i in calc], root / "calc"), strict=True
            ):
                pdfs[i] = pdf
        for i, record in enumerate(records):
            if record["converter"] == "gnumeric":
                pdfs[i] = _gnumeric(paths[i], root / f"job{i:05d}.pdf")
        return [_first_page(pdf, record) for pdf, record in zip(pdfs, records, strict=True)]


def _gnumeric(source: Path, target: Path) -> Path | None:
    try:
        return ssconvert_to_pdf(source, target)
    except ConversionError as err:
        log.warning("%s", err)
        return None


def _first_page(pdf: Path | None, record: dict[str, Any]) -> list[EnginePage]:
    if pdf is None:
        return []
    page = pdf_pages(pdf)[0]
    page.record = dict(record, page=1, pages=1)
    return [page]
