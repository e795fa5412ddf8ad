"""models.data.prose: deterministic, sourced, licensed passages of whole sentences (no network)."""

from __future__ import annotations

import random

import pytest

from models.data import prose

# What the committed extract may contain (models/data/prose_build.py's sources).
ALLOWED_LICENCES = {"PSF-2.0", "GPL-2.0-or-later", "GPL-2.0-only"}
ALLOWED_PACKAGES = (
    "debian:python3.11-doc ",
    "debian:debian-policy ",
    "debian:developers-reference ",
)


def test_passage_is_deterministic_given_the_rng() -> None:
    a = [prose.passage(random.Random(7), 150) for _ in range(3)]
    b = [prose.passage(random.Random(7), 150) for _ in range(3)]
    assert a == b
    assert prose.sentences(random.Random(3), 6) == prose.sentences(random.Random(3), 6)


@pytest.mark.parametrize("min_words", [1, 120, 400])
def test_passage_has_title_words_source_and_licence(min_words: int) -> None:
    rng = random.Random(min_words)
    for _ in range(50):
        p = prose.passage(rng, min_words)
        assert p.title.strip() and len(p.title) < 120
        assert sum(len(x.split()) for x in p.paragraphs) >= min_words
        assert all(x.endswith((".", "!", "?", ".)", '."')) for x in p.paragraphs)
        assert p.licence in ALLOWED_LICENCES
        assert p.source.startswith(ALLOWED_PACKAGES)


def test_every_topic_gives_passages_of_that_topic() -> None:
    store = prose._store()
    assert len(prose.topics()) >= 8
    for topic in prose.topics():
        p = prose.passage(random.Random(0), 80, topic)
        first = next(i for i, q in enumerate(store.passages) if q.title == p.title and
                     q.source == p.source)  # fmt: skip
        assert store.topic[first] == topic
    with pytest.raises(ValueError):
        prose.passage(random.Random(0), 80, "no-such-topic")


def test_sentences_are_whole_and_from_one_document() -> None:
    rng = random.Random(11)
    for n in (1, 4, 12):
        got = prose.sentences(rng, n)
        assert len(got) == n
        assert all(s[0].isupper() or s[0] in "\"'(" for s in got)
        assert all(s.endswith((".", "!", "?", ".)", '."', '?"')) for s in got)
    assert prose.sentences(rng, 0) == []


def test_extract_is_small_and_varied() -> None:
    assert prose.PASSAGES.stat().st_size < 8_000_000
    store = prose._store()
    assert len(store.passages) > 1000
    assert len({p.source for p in store.passages}) > 100
