"""What every HTML template draws from: seeded randomness, Faker, a random theme (fonts, colours,
page size, margins), prose with its sources, and small shared pieces (logos, escaping)."""

from __future__ import annotations

import functools
import html
import random
from dataclasses import dataclass, field

from faker import Faker

from models.data import prose, register
from models.data.engines.dates import YEAR, day
from models.data.engines.vocabulary import MONO, SANS, SERIF

LOCALES = ("en_US", "en_US", "en_GB", "en_CA", "en_AU", "en_IE")
PORTRAIT = {"A4": (210.0, 297.0), "letter": (215.9, 279.4)}  # mm
LANDSCAPE = {"16:9": (297.0, 167.06), "4:3": (254.0, 190.5)}
FAKER_SOURCE = "faker"  # names, numbers and dates made up by Faker (MIT-licensed)


@functools.cache
def _faker(locale: str) -> Faker:
    return Faker(locale)  # building a Faker is slow: once per locale and process


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Theme:
    """Random but coherent looks: one hue family, two or three faces, a base size."""

    body: str
    heading: str
    mono: str
    hue: int
    size_pt: float
    margin_mm: float
    paper: str

    @property
    def accent(self) -> str:
        return f"hsl({self.hue}, 55%, 35%)"

    @property
    def soft(self) -> str:
        return f"hsl({self.hue}, 45%, 93%)"

    @property
    def mid(self) -> str:
        return f"hsl({self.hue}, 35%, 70%)"


def random_theme(rng: random.Random) -> Theme:
    body = rng.choice(SANS + SERIF)
    heading = body if rng.random() < 0.4 else rng.choice(SANS + SERIF)
    return Theme(
        body=body,
        heading=heading,
        mono=rng.choice(MONO),
        hue=rng.randrange(360),
        size_pt=rng.choice((9.5, 10, 10.5, 11, 11, 12)),
        margin_mm=rng.choice((14, 18, 20, 22, 25, 28)),
        paper=rng.choice(tuple(PORTRAIT)),
    )


@dataclass
class Ctx:
    """One page being built. page: '<w>mm <h>mm' for @page; sources: the prose used."""

    rng: random.Random
    fake: Faker
    theme: Theme
    label: str  # the class being drawn: it sets the body text's register
    sources: list[prose.Passage] = field(default_factory=list)
    landscape: str | None = None  # "16:9" / "4:3" for slides
    rotated: bool = False  # paper turned sideways (wide spreadsheets)
    page: int = 0  # which page of the laid-out PDF to keep (0: the first; past the end: the last)

    @property
    def page_size(self) -> str:
        w, h = LANDSCAPE[self.landscape] if self.landscape else PORTRAIT[self.theme.paper]
        return f"{h}mm {w}mm" if self.rotated else f"{w}mm {h}mm"

    def passage(self, min_words: int = 120, topic: str | None = None) -> prose.Passage:
        p = register.passage(self.rng, self.label, min_words, topic)
        self.sources.append(p)
        return p

    def sentences(self, n: int, max_words: int = 40) -> list[str]:
        """n sentences of one passage, none longer than max_words (bullets, captions)."""
        p = self.passage(n * 30)
        found = [s for para in p.paragraphs for s in prose.split_sentences(para)]
        short = [s for s in found if len(s.split()) <= max_words] or found
        start = self.rng.randrange(max(1, len(short) - n + 1))
        return short[start : start + n]

    def paras(self, min_words: int, topic: str | None = None) -> str:
        return "".join(f"<p>{esc(x)}</p>" for x in self.passage(min_words, topic).paragraphs)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def money(self, low: float, high: float) -> str:
        return f"{self.rng.uniform(low, high):,.2f}"

    def date(self) -> str:
        fmt = self.rng.choice(("%B %d, %Y", "%d %B %Y", "%Y-%m-%d", "%b %d, %Y", "%d/%m/%Y"))
        return day(self.fake, -6 * YEAR, 0).strftime(fmt)

    def company(self) -> str:
        return str(self.fake.company())

    def record(self) -> tuple[str, str]:
        """(text_source, licence) for the manifest, "; "-joined like the office engine's."""
        sources = sorted({p.source for p in self.sources} | {FAKER_SOURCE})
        return "; ".join(sources), "; ".join(sorted({p.licence for p in self.sources} | {"MIT"}))


def new_ctx(seed: int, label: str) -> Ctx:
    rng = random.Random(f"html:{label}:{seed}")
    fake = _faker(rng.choice(LOCALES))
    fake.seed_instance(rng.randrange(2**32))
    return Ctx(rng, fake, random_theme(rng), label)


def logo(ctx: Ctx, size_px: int = 44) -> str:
    """A made-up brand mark as inline SVG: two or three overlapping shapes in the theme's hue."""
    rng, h = ctx.rng, ctx.theme.hue
    shapes = []
    for i in range(rng.randint(2, 3)):
        fill = f"hsl({(h + 30 * i) % 360}, {rng.randint(40, 80)}%, {rng.randint(25, 60)}%)"
        x, y, r = rng.randint(8, 32), rng.randint(8, 32), rng.randint(8, 16)
        kind = rng.choice(("circle", "rect", "poly"))
        if kind == "circle":
            shapes.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}"/>')
        elif kind == "rect":
            shapes.append(
                f'<rect x="{x - r}" y="{y - r}" width="{2 * r}" height="{2 * r}" '
                f'rx="{rng.randint(0, 6)}" fill="{fill}"/>'
            )
        else:
            shapes.append(
                f'<polygon points="{x},{y - r} {x + r},{y + r} {x - r},{y + r}" fill="{fill}"/>'
            )
    return (
        f'<svg class="logo" width="{size_px}" height="{size_px}" viewBox="0 0 40 40" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
    )


def base_css(ctx: Ctx) -> str:
    t = ctx.theme
    return f"""
@page {{ size: {ctx.page_size}; margin: {t.margin_mm}mm; }}
html {{ font-family: '{t.body}'; font-size: {t.size_pt}pt; color: #1b1b1b; line-height: 1.35; }}
h1, h2, h3, h4 {{ font-family: '{t.heading}'; line-height: 1.15; margin: 0.5em 0 0.3em; }}
p {{ margin: 0 0 0.6em; }}
table {{ border-collapse: collapse; }}
.muted {{ color: #555; }}
.accent {{ color: {t.accent}; }}
.mono {{ font-family: '{t.mono}'; }}
"""
