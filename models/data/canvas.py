"""A grayscale page that remembers every word it draws, with its pixel box and line number."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

Box = tuple[int, int, int, int]
Font = ImageFont.FreeTypeFont


@dataclass
class Word:
    """One rendered word: its text, its tight pixel box (x0, y0, x1, y1), the text line it is on
    and how it was made ("print", "hand" for handwriting, "mark" for stamps and annotations)."""

    text: str
    box: Box
    line: int
    kind: str = "print"


class Canvas:
    """PIL "L" image plus the ground-truth word list; all text goes through write()."""

    def __init__(self, width: int, height: int, paper: int = 255) -> None:
        self.width, self.height = width, height
        self.image = Image.new("L", (width, height), paper)
        self.draw = ImageDraw.Draw(self.image)
        self.words: list[Word] = []
        self._line = 0

    # -- text -------------------------------------------------------------------------------
    def write(
        self,
        x: float,
        y: float,
        text: str,
        font: Font,
        fill: int = 0,
        kind: str = "print",
        spacing: float | None = None,
    ) -> int:
        """Draw one line of text from (x, y) (top-left); returns the end x.

        `spacing` overrides the inter-word advance (used for justified lines)."""
        tokens = text.split()
        space = metrics(font, " ")[4] if spacing is None else spacing
        line = self._line
        self._line += 1
        cx = float(x)
        drawn = 0
        for token in tokens:
            left, top, right, bottom, advance = metrics(font, token)
            box = (int(cx + left), int(y + top), int(cx + right) + 1, int(y + bottom) + 1)
            if box[2] > self.width or box[3] > self.height or box[0] < 0 or box[1] < 0:
                break  # never record a word that does not fit on the page
            if spacing is not None:
                self.draw.text((cx, y), token, font=font, fill=fill)
            self.words.append(Word(token, box, line, kind))
            cx += advance + space
            drawn += 1
        if spacing is None and drawn:
            # One call per line is about twice as fast as one per word.
            self.draw.text((x, y), " ".join(tokens[:drawn]), font=font, fill=fill)
        return int(cx - space)

    def next_line(self) -> int:
        """A fresh line number, for words placed by hand rather than through write()."""
        self._line += 1
        return self._line - 1

    @staticmethod
    def wrap(text: str, font: Font, width: float) -> list[str]:
        """Greedy line breaking at `width` pixels."""
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        space = metrics(font, " ")[4]
        for token in text.split():
            w = metrics(font, token)[4]
            if current and used + space + w > width:
                lines.append(" ".join(current))
                current, used = [token], w
            else:
                used = used + space + w if current else w
                current.append(token)
        if current:
            lines.append(" ".join(current))
        return lines

    def paragraph(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        font: Font,
        *,
        max_y: float,
        leading: float = 1.3,
        align: str = "left",
        fill: int = 0,
        kind: str = "print",
        indent: float = 0,
    ) -> int:
        """Wrap and draw `text` inside [x, x+width], stopping above max_y; returns the next y."""
        step = line_height(font, leading)
        lines = self.wrap(text, font, width - indent)
        for i, line in enumerate(lines):
            if y + step > max_y:
                break
            lx = x + (indent if i == 0 else 0)
            w = font.getlength(line)
            room = x + width - lx
            if align == "center":
                self.write(lx + (room - w) / 2, y, line, font, fill, kind)
            elif align == "right":
                self.write(lx + room - w, y, line, font, fill, kind)
            elif align == "justify" and i < len(lines) - 1 and line.count(" ") > 2:
                tokens = line.split()
                ink = sum(metrics(font, t)[4] for t in tokens)
                self.write(lx, y, line, font, fill, kind, spacing=(room - ink) / (len(tokens) - 1))
            else:
                self.write(lx, y, line, font, fill, kind)
            y += step
        return int(y)

    def write_aligned(
        self,
        x0: float,
        x1: float,
        y: float,
        text: str,
        font: Font,
        align: str = "left",
        fill: int = 0,
        kind: str = "print",
    ) -> int:
        """One line aligned in [x0, x1]; returns the end x."""
        w = font.getlength(text)
        x = {"left": x0, "center": (x0 + x1 - w) / 2, "right": x1 - w}[align]
        return self.write(max(x0, x), y, text, font, fill, kind)

    # -- graphics ---------------------------------------------------------------------------
    def rule(self, x0: float, y: float, x1: float, width: int = 1, fill: int = 0) -> None:
        self.draw.line([(x0, y), (x1, y)], fill=fill, width=width)

    def rect(
        self, box: Iterable[float], outline: int | None = 0, fill: int | None = None, width: int = 1
    ) -> None:
        self.draw.rectangle(tuple(box), outline=outline, fill=fill, width=width)

    def paste(self, image: Image.Image, x: int, y: int) -> None:
        self.image.paste(image, (x, y))


def fit_words(text: str, font: Font, width: float) -> str:
    """Drop trailing words until the text fits `width` (a cut word would not be a real word)."""
    words = text.split()
    while len(words) > 1 and metrics(font, " ".join(words))[4] > width:
        words.pop()
    return " ".join(words)


@functools.lru_cache(maxsize=65536)
def metrics(font: Font, token: str) -> tuple[int, int, int, int, float]:
    """(left, top, right, bottom, advance) of a token: words repeat, so measuring is cached."""
    left, top, right, bottom = font.getbbox(token)
    return int(left), int(top), int(right), int(bottom), float(font.getlength(token))


def line_height(font: Font, leading: float = 1.3) -> int:
    """Baseline-to-baseline distance for a font at a leading factor."""
    return max(1, int(round(font.size * leading)))
