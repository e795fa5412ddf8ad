"""Which kind of text a class's body carries: documentation prose where real documents of the
class are technical (papers, reports, specifications, and some e-mails, slides and news), the
generator's genre sentences elsewhere (business letters, memos, invoices, forms, résumés, ads).

Every class drawing the same documentation prose made the words useless for telling a letter from
a specification: a model trained that way took real technical pages for letters. So the register
follows the class, and the share of documentation prose is part of each class's description."""

from __future__ import annotations

import random

from models.data import prose
from models.data.content import Content

# class -> (share of bodies from documentation prose, the generator genre of the others)
REGISTER: dict[str, tuple[float, str]] = {
    "scientific_publication": (0.9, "science"),
    "scientific_report": (0.9, "science"),
    "specification": (0.8, "spec"),
    "email": (0.5, "business"),  # mailing lists are technical, office mail is not
    "presentation": (0.5, "business"),
    "news_article": (0.2, "news"),
    "resume": (0.0, "resume"),
    "advertisement": (0.0, "ad"),
}
DEFAULT = (0.0, "business")  # letter, memo, invoice, form, questionnaire, budget, ...
GENERATED_SOURCE = "models.data.content (genre sentences, Faker)"
GENERATED_LICENCE = "MIT"


def passage(
    rng: random.Random, label: str, min_words: int = 120, topic: str | None = None
) -> prose.Passage:
    """A body of at least min_words in the register of `label` (topic: documentation only)."""
    share, genre = REGISTER.get(label, DEFAULT)
    if rng.random() < share:
        return prose.passage(rng, min_words, topic)
    content = Content(rng)
    paragraphs: list[str] = []
    while sum(len(p.split()) for p in paragraphs) < min_words:
        paragraphs.append(content.paragraph(genre))
    title = content.title("science" if genre == "science" else "news" if genre == "news" else "")
    return prose.Passage(title, tuple(paragraphs), GENERATED_SOURCE, GENERATED_LICENCE)
