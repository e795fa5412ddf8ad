"""The look of an office document and what its templates draw from: the font families LibreOffice
finds, a per-document theme (fonts, sizes, colours, margins), and the context with the seeded
randomness and text sources."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from models.data.engines import office_text
from models.data.engines.vocabulary import CONDENSED, SANS, SERIF

# Corporate accents, dark enough that white text on them stays readable in grayscale.
ACCENTS = (
    "1F3864",
    "2E5597",
    "0B5563",
    "7A1F2B",
    "2F5233",
    "3B3B3B",
    "5B2C6F",
    "8C4A00",
    "004E7C",
    "374151",
)
LIGHTS = ("F2F2F2", "E7EEF7", "EAF1EA", "F5EFE6", "EDEDED", "E8F4F8", "F3E9EC", "FFF8E1")


@dataclass
class Theme:
    body: str
    heading: str
    size: float  # body size in points
    accent: str  # hex RGB
    light: str  # pale fill for shaded cells
    margin: float  # inches
    justify: bool

    @property
    def align(self) -> str:
        """Body-text alignment: justified or ragged right, as the theme was drawn."""
        return "justify" if self.justify else "left"


def make_theme(rng: random.Random) -> Theme:
    body = rng.choice(SERIF + SANS + SANS)  # sans faces dominate modern office documents
    heading = body if rng.random() < 0.45 else rng.choice(SANS + SERIF + CONDENSED)
    return Theme(
        body=body,
        heading=heading,
        size=rng.choice((9.5, 10, 10, 10.5, 11, 11, 11, 12)),
        accent=rng.choice(ACCENTS) if rng.random() < 0.8 else "000000",
        light=rng.choice(LIGHTS),
        margin=rng.choice((0.6, 0.75, 0.8, 1.0, 1.0, 1.2)),
        justify=rng.random() < 0.3,
    )


@dataclass
class Ctx:
    """Everything a template draws from: seeded randomness, Faker, the theme, and the text
    sources it used (for the manifest's text_source and licence)."""

    rng: random.Random
    fake: Faker
    theme: Theme
    label: str  # the class being drawn: it sets the body text's register
    sources: dict[str, str] = field(default_factory=dict)  # source -> licence
    currency: str = "$"

    def prose(self, min_words: int = 120, topic: str | None = None) -> tuple[str, list[str]]:
        """(title, paragraphs) of coherent prose; its source is remembered."""
        title, paragraphs, source, licence = office_text.passage(
            self.rng, self.label, min_words, topic
        )
        self.sources[source] = licence
        return title, paragraphs

    def sentences(self, n: int) -> list[str]:
        found, source, licence = office_text.sentences(self.rng, self.label, n)
        self.sources[source] = licence
        return found

    def pick(self, seq: Any) -> Any:
        return self.rng.choice(seq)
