"""Tables for python-docx with what LibreOffice needs to lay them out as meant: fixed column
widths, and cell shading, borders and padding written in schema order."""

from __future__ import annotations

from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches
from docx.table import Table, _Cell

from models.data.engines.office_page import text_width
from models.data.engines.office_paragraphs import para

# Schema order of the children of w:tblPr and w:tcPr: LibreOffice drops properties out of order.
_ORDER = {
    "tblPr": (
        "tblStyle",
        "tblpPr",
        "tblOverlap",
        "bidiVisual",
        "tblStyleRowBandSize",
        "tblStyleColBandSize",
        "tblW",
        "jc",
        "tblCellSpacing",
        "tblInd",
        "tblBorders",
        "shd",
        "tblLayout",
        "tblCellMar",
        "tblLook",
    ),
    "tcPr": (
        "cnfStyle",
        "tcW",
        "gridSpan",
        "hMerge",
        "vMerge",
        "tcBorders",
        "shd",
        "noWrap",
        "tcMar",
        "textDirection",
        "tcFitText",
        "vAlign",
        "hideMark",
    ),
}


def _put(parent: Any, child: Any) -> None:
    """Add child to a tblPr/tcPr at its schema position, replacing one of the same name."""
    order = _ORDER[parent.tag.split("}")[1]]
    name = child.tag.split("}")[1]
    for old in parent.findall(child.tag):
        parent.remove(old)
    later = order[order.index(name) + 1 :]
    for i, existing in enumerate(parent):
        if existing.tag.split("}")[1] in later:
            parent.insert(i, child)
            return
    parent.append(child)


def shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    _put(tcpr, shd)


def cell_borders(
    cell: _Cell, edges: str = "top,left,bottom,right", size: int = 4, color: str = "000000"
) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        on = edge in edges.split(",")
        el.set(qn("w:val"), "single" if on else "nil")
        if on:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:color"), color)
        borders.append(el)
    _put(tcpr, borders)


def table_borders(table: Table, kind: str = "grid", color: str = "808080", size: int = 4) -> None:
    """kind: grid (all lines), rows (horizontal lines only), none."""
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        on = kind == "grid" or (kind == "rows" and edge in ("top", "bottom", "insideH"))
        el.set(qn("w:val"), "single" if on else "nil")
        if on:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:color"), color)
        borders.append(el)
    _put(tblpr, borders)


FULL_WIDTH = 6.0  # inches: a table at least this wide is meant to span the text block


def table(
    container: Any, rows: int, cols: int, widths: list[float], borders: str = "grid", **kw: Any
) -> Table:
    """A table with fixed column widths (inches): LibreOffice ignores widths unless every cell
    carries one."""
    parent = container._tc if isinstance(container, _Cell) else container.element.body
    blocks = [el for el in parent if el.tag in (qn("w:p"), qn("w:tbl"))]
    if blocks and blocks[-1].tag == qn("w:tbl"):
        # Two tables in a row merge into one (taking the second's borders); keep them apart.
        para(container, "", after=0, size=2)
    if not isinstance(container, _Cell):
        # Widths are written for a 6.5-7 inch text block; fit them to this page's margins.
        full = text_width(container)
        if sum(widths) >= FULL_WIDTH or sum(widths) > full:
            widths = [w * full / sum(widths) for w in widths]
    t = container.add_table(rows=rows, cols=cols)
    t.autofit = False
    for row in t.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Inches(width)
    # LibreOffice lays tables out from the grid, not the cell widths.
    for col, width in zip(t._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = Inches(width)
    table_borders(t, borders, **kw)
    return t


def cell_margins(table_: Table, top: float = 2, bottom: float = 2, side: float = 5) -> None:
    """Default cell padding in points."""
    mar = OxmlElement("w:tblCellMar")
    for edge, value in (("top", top), ("bottom", bottom), ("left", side), ("right", side)):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(value * 20)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    _put(table_._tbl.tblPr, mar)
