"""What every block gets: the page's type theme, a vertical flow region, and the page context."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from models.data import fonts
from models.data.canvas import Canvas, Font
from models.data.content import Content

# Body styles per class (weights): typewritten letters and memos, serif journals, sans forms...
BODY_STYLES: dict[str, dict[str, float]] = {
    "letter": {"serif": 0.45, "mono": 0.3, "sans": 0.25},
    "memo": {"mono": 0.35, "serif": 0.35, "sans": 0.3},
    "email": {"mono": 0.55, "sans": 0.3, "serif": 0.15},
    "resume": {"serif": 0.45, "sans": 0.45, "mono": 0.1},
    "scientific_publication": {"serif": 0.8, "sans": 0.2},
    "scientific_report": {"serif": 0.45, "mono": 0.25, "sans": 0.3},
    "news_article": {"serif": 0.85, "sans": 0.15},
    "advertisement": {"sans": 0.5, "serif": 0.3, "display": 0.2},
    "presentation": {"sans": 0.7, "serif": 0.15, "display": 0.15},
    "handwritten": {"hand": 1.0},
}
DEFAULT_STYLES = {"sans": 0.45, "serif": 0.3, "mono": 0.25}


@dataclass
class Theme:
    """The fonts of one page, all derived from one body size."""

    size: int
    body: Font
    bold: Font
    italic: Font
    small: Font
    small_bold: Font
    h2: Font
    h1: Font
    title: Font
    mono: Font
    hand: Font
    ink: int

    def scaled(self, role: str, factor: float) -> Font:
        """Another size of the body or heading face, e.g. for big advertisement headlines."""
        base = {"body": self.body, "bold": self.bold, "title": self.title, "hand": self.hand}[role]
        return fonts.font(str(base.path), int(self.size * factor))


def make_theme(rng: random.Random, label: str, size: int | None = None) -> Theme:
    styles = BODY_STYLES.get(label, DEFAULT_STYLES)
    style = rng.choices(list(styles), list(styles.values()))[0]
    body_family = rng.choice(fonts.families(style))
    head_style = style if style in ("serif", "hand") and rng.random() < 0.6 else "sans"
    head = rng.choice(fonts.families(head_style))
    display = rng.choice(fonts.families("display"))
    hand = rng.choice(fonts.families("hand"))
    mono = rng.choice(fonts.families("mono"))
    s = size or rng.randint(13, 17)
    f = fonts.font
    return Theme(
        size=s,
        body=f(body_family.regular, s),
        bold=f(body_family.bold, s),
        italic=f(body_family.italic, s),
        small=f(body_family.regular, max(11, s - 3)),
        small_bold=f(body_family.bold, max(11, s - 3)),
        h2=f(head.bold, int(s * 1.2)),
        h1=f(head.bold, int(s * rng.uniform(1.4, 1.9))),
        title=f(
            display.regular if rng.random() < 0.5 else head.bold, int(s * rng.uniform(1.8, 2.8))
        ),
        mono=f(mono.regular, s),
        hand=f(hand.regular, int(s * rng.uniform(1.3, 1.7))),
        ink=rng.choice((0, 0, 10, 25, 40)),
    )


@dataclass
class Flow:
    """A column of the page that blocks fill top-down: x0..x1 wide, from y down to y1."""

    x0: int
    x1: int
    y: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def room(self) -> int:
        return self.y1 - self.y

    def gap(self, px: float) -> None:
        self.y = min(self.y1, self.y + int(px))

    def split(self, n: int, gutter: int, height: int | None = None) -> list[Flow]:
        """n side-by-side sub-columns over the next `height` pixels (all the room by default)."""
        h = self.room if height is None else min(height, self.room)
        w = (self.width - gutter * (n - 1)) // n
        return [
            Flow(self.x0 + i * (w + gutter), self.x0 + i * (w + gutter) + w, self.y, self.y + h)
            for i in range(n)
        ]


@dataclass
class Ctx:
    """Everything a block may use. `fields` holds the key fields actually rendered on the page."""

    canvas: Canvas
    rng: random.Random
    content: Content
    theme: Theme
    label: str
    genre: str
    fields: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, make: object) -> str:
        """The page's value of a key field, made once (by `make()`) and recorded as rendered."""
        if name not in self.fields:
            self.fields[name] = str(make() if callable(make) else make)
        return self.fields[name]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p
