"""Document set-up for python-docx: paper size, margins and the Normal style from the theme, the
width of the text block, and newspaper columns."""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from models.data.engines.office_paragraphs import face
from models.data.engines.office_theme import Theme


def setup(doc: DocxDocument, theme: Theme, paper: str = "letter") -> None:
    """Page size and margins, and the Normal style in the theme's body font."""
    section = doc.sections[0]
    section.page_width, section.page_height = (
        (Inches(8.5), Inches(11)) if paper == "letter" else (Inches(8.27), Inches(11.69))
    )
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(theme.margin))
    normal = doc.styles["Normal"]
    normal.font.name = face(theme.body)
    normal.font.size = Pt(theme.size)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    # The default template's theme-font attributes override explicit names; drop them.
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:cs"), face(theme.body))
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.08


def text_width(doc: DocxDocument) -> float:
    """Width between the margins, in inches."""
    s = doc.sections[-1]
    return (int(s.page_width or 0) - int(s.left_margin or 0) - int(s.right_margin or 0)) / 914400


def columns(doc: DocxDocument, n: int, space: float = 0.3, new_section: bool = True) -> None:
    """Continue the document in n newspaper columns (a continuous section break)."""
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.CONTINUOUS) if new_section else doc.sections[-1]
    cols = section._sectPr.find(qn("w:cols"))
    if cols is None:
        cols = OxmlElement("w:cols")
        section._sectPr.append(cols)
    cols.set(qn("w:num"), str(n))
    cols.set(qn("w:space"), str(int(space * 1440)))
