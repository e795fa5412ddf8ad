"""Paragraphs and runs for python-docx: text in the theme's fonts (ligatures off), paragraphs in a
document or cell, and the paragraph OOXML the python-docx API lacks (rules, shading)."""

from __future__ import annotations

from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run


def run(
    par: Paragraph,
    text: str,
    *,
    size: float | None = None,
    bold: bool = False,
    italic: bool = False,
    font: str | None = None,
    color: str | None = None,
    caps: bool = False,
) -> Run:
    r = par.add_run(text)
    r.bold, r.italic = bold or None, italic or None
    if size:
        r.font.size = Pt(size)
    if font:
        set_run_font(r, font)
    if color:
        r.font.color.rgb = RGBColor.from_string(color)
    if caps:
        r.font.all_caps = True
    return r


def face(name: str) -> str:
    """The font name as LibreOffice should read it: ligatures off (a LibreOffice font-feature
    suffix), because a ligature is one glyph for two or more characters and the PDF text
    layer then gives them one box between them, splitting words like "of fice"."""
    return f"{name}:-liga"


def set_run_font(r: Run, name: str) -> None:
    r.font.name = face(name)
    r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), face(name))


def para(
    container: Any,
    text: str = "",
    *,
    align: str = "left",
    before: float = 0,
    after: float = 4,
    **kw: Any,
) -> Paragraph:
    """A paragraph in a document or cell with one run of text (run() keywords apply)."""
    p = container.add_paragraph()
    p.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    p.paragraph_format.space_before = Pt(before)
    p.paragraph_format.space_after = Pt(after)
    if text:
        run(p, text, **kw)
    return p


def cell_text(cell: _Cell, text: str, **kw: Any) -> Paragraph:
    """Write into a cell's first (empty) paragraph instead of adding a second one."""
    p = cell.paragraphs[0]
    align = kw.pop("align", "left")
    p.alignment = {"left": 0, "center": 1, "right": 2}[align]
    p.paragraph_format.space_after = Pt(kw.pop("after", 0))
    if text:
        run(p, text, **kw)
    return p


def rule(p: Paragraph, color: str = "000000", size: int = 8, edge: str = "bottom") -> None:
    """A horizontal line under (or over) a paragraph: a paragraph border, as Word draws one."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), "2")
    line.set(qn("w:color"), color)
    borders.append(line)


def shade_paragraph(p: Paragraph, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    p._p.get_or_add_pPr().append(shd)
