"""Body text follows the class: documentation prose for technical classes, business sentences
for letters and the like, so that the words help tell them apart."""

from __future__ import annotations

import random

from models.data import register
from models.data.engines import html, office


def sources(label: str, n: int = 40) -> list[str]:
    rng = random.Random(label)
    return [register.passage(rng, label, 60).source for _ in range(n)]


def test_technical_classes_read_like_documentation_and_letters_do_not() -> None:
    assert sum(s.startswith("debian:") for s in sources("scientific_report")) >= 30
    letters = sources("letter")
    assert all(s == register.GENERATED_SOURCE for s in letters)
    bodies = [register.passage(random.Random(i), "letter", 60) for i in range(3)]
    assert all(sum(len(p.split()) for p in b.paragraphs) >= 60 for b in bodies)
    assert len({b.paragraphs for b in bodies}) == 3


def test_the_engines_draw_bodies_in_their_class_register() -> None:
    letters = [str(office.build("letter", seed)[1]["text_source"]) for seed in range(5)]
    assert all("debian:" not in s and register.GENERATED_SOURCE in s for s in letters)
    papers = [str(html.build("scientific_publication", s)[1]["text_source"]) for s in range(10)]
    assert sum("debian:" in s for s in papers) >= 7
