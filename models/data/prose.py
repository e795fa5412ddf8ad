"""Coherent, freely licensed prose for the bodies of rendered documents (corpus v2).

Passages are sections of real documentation (Python 3.11's manual, PSF-2.0; the Debian Developer's
Reference, GPL-2.0-only), extracted once by models/data/prose_build.py (`make prose`) into
data/prose/passages.jsonl with source and licence per passage, so corpus generation needs no extra
packages and gives the same text on every machine. The Debian Policy Manual is left out:
data/realval shows its pages. Real prose rather than generated sentences: a model that has only
seen word salad learns the wrong text statistics.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PASSAGES = Path(__file__).resolve().parents[2] / "data" / "prose" / "passages.jsonl"
# Split after a full stop (or ! ?) followed by a capital, except after a common abbreviation
# ("e.g.", "i.e.", "etc.", "vs.") or an initial ("R. David Murray").
_SENTENCE_END = re.compile(
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\b[A-Z]\.)(?<=[.!?])\s+(?=[A-Z\"'(])"
)
_ATTEMPTS = 64


@dataclass(frozen=True)
class Passage:
    title: str  # a heading that fits the text
    paragraphs: tuple[str, ...]  # whole sentences
    source: str  # "debian:<package> <version>:<file>"
    licence: str  # SPDX id

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


@dataclass(frozen=True)
class _Store:
    passages: tuple[Passage, ...]
    topic: tuple[str, ...]  # per passage
    by_topic: dict[str | None, tuple[int, ...]]  # passage indices; None = all


@lru_cache(maxsize=1)
def _store() -> _Store:
    passages, topic = [], []
    with PASSAGES.open(encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            passages.append(
                Passage(item["title"], tuple(item["paragraphs"]), item["source"], item["licence"])
            )
            topic.append(item["topic"])
    by_topic: dict[str | None, tuple[int, ...]] = {None: tuple(range(len(passages)))}
    for name in sorted(set(topic)):
        by_topic[name] = tuple(i for i, t in enumerate(topic) if t == name)
    return _Store(tuple(passages), tuple(topic), by_topic)


def topics() -> tuple[str, ...]:
    """The values passage() accepts as topic."""
    return tuple(t for t in _store().by_topic if t is not None)


def _run(store: _Store, start: int, min_words: int) -> Passage | None:
    """The passage at start, followed by the next sections of the same document until it has
    min_words words; None when the document ends first."""
    first = store.passages[start]
    paragraphs: list[str] = []
    words, i = 0, start
    while words < min_words:
        if i >= len(store.passages) or store.passages[i].source != first.source:
            return None
        paragraphs.extend(store.passages[i].paragraphs)
        words += store.passages[i].words
        i += 1
    return Passage(first.title, tuple(paragraphs), first.source, first.licence)


def passage(rng: random.Random, min_words: int = 120, topic: str | None = None) -> Passage:
    """A titled passage of at least min_words words (neighbouring sections of one document are
    joined when a section is shorter). Deterministic given rng's state."""
    store = _store()
    if topic not in store.by_topic:
        raise ValueError(f"unknown topic {topic!r}; topics(): {topics()}")
    pool = store.by_topic[topic]
    for _ in range(_ATTEMPTS):
        found = _run(store, rng.choice(pool), min_words)
        if found is not None:
            return found
    # Rare (very long min_words): the first start in the pool that works, else the whole pool.
    for start in pool:
        found = _run(store, start, min_words)
        if found is not None:
            return found
    raise ValueError(f"no document in topic {topic!r} has {min_words} words")


def split_sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s]


def sentences(rng: random.Random, n: int) -> list[str]:
    """n consecutive whole sentences from one passage (they read as one text)."""
    if n <= 0:
        return []
    for min_words in (n * 20, n * 40, n * 80):
        found = [s for p in passage(rng, min_words).paragraphs for s in split_sentences(p)]
        if len(found) >= n:
            start = rng.randrange(len(found) - n + 1)
            return found[start : start + n]
    raise ValueError(f"no passage has {n} sentences")
