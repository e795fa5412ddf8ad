"""A worksheet being written with openpyxl and its look: the document's font, accent and fill
(from the office font families and colours), cell styling, title banners, header rows and column
widths."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.data.engines.office_theme import ACCENTS, LIGHTS
from models.data.engines.vocabulary import SANS, SERIF

THIN, MEDIUM = Side(style="thin", color="808080"), Side(style="medium", color="000000")


@dataclass
class Sheet:
    """A worksheet being written, with the document's look."""

    ws: Worksheet
    rng: random.Random
    fake: Faker
    font: str
    accent: str
    light: str
    size: float

    def put(self, row: int, col: int, value: Any, **style: Any) -> None:
        cell = self.ws.cell(row=row, column=col, value=value)
        cell.font = Font(
            name=style.get("font", self.font),
            size=style.get("size", self.size),
            bold=style.get("bold", False),
            italic=style.get("italic", False),
            color=style.get("color", "000000"),
        )
        if "fill" in style:
            cell.fill = PatternFill("solid", start_color=style["fill"], end_color=style["fill"])
        if "fmt" in style:
            cell.number_format = style["fmt"]
        if "border" in style:
            cell.border = style["border"]
        h = style.get("align", "right" if isinstance(value, int | float) else "left")
        cell.alignment = Alignment(
            horizontal=h, vertical="center", wrap_text=style.get("wrap", False)
        )

    def title(self, text: str, cols: int, row: int = 1, size: float = 16) -> None:
        self.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=cols)
        banner = self.rng.random() < 0.5
        self.put(
            row,
            1,
            text,
            size=size,
            bold=True,
            color="FFFFFF" if banner else self.accent,
            align=self.rng.choice(("left", "center")),
            **({"fill": self.accent} if banner else {}),
        )
        self.ws.row_dimensions[row].height = size * 1.8

    def header(self, row: int, labels: list[str]) -> None:
        for j, label in enumerate(labels, 1):
            self.put(
                row,
                j,
                label,
                bold=True,
                fill=self.light,
                border=Border(bottom=MEDIUM),
                align="left" if j == 1 else "center",
            )


def new_sheet(ws: Worksheet, rng: random.Random, fake: Faker, font_suffix: str) -> Sheet:
    font = rng.choice(SANS + SANS + SERIF) + font_suffix
    return Sheet(
        ws, rng, fake, font, rng.choice(ACCENTS), rng.choice(LIGHTS), rng.choice((9, 10, 10, 11))
    )


def set_widths(s: Sheet, widths: Sequence[float]) -> None:
    for j, w in enumerate(widths, 1):
        s.ws.column_dimensions[get_column_letter(j)].width = w
