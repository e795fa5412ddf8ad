"""Whole documents: a PDF's pages or a TIFF's frames read in order through the cascade, each page
as /v1/classify reads one, until the pooled document answer is sure (models.document). One
budget and deadline cover the whole document; the page limits are decode's (DOCEXIT_MAX_PAGES,
the PDF sandbox), met again by every page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from models.document import DocumentPool, Reading, read
from service.budget import Choice
from service.deadline import Cap, Deadline
from service.engine import Engine, Result
from service.errors import invalid, too_large
from service.settings import Settings

SPAN = re.compile(r"^(all|\d{1,6}(-\d{1,6})?)$")
SPAN_TEXT = '"all", a 0-based page "N", or a 0-based inclusive range "A-B"'
DEFAULT_POOL = DocumentPool()  # a checkpoint without a fitted pool: equal weights, T = 1


@dataclass(frozen=True)
class PageSpan:
    first: int
    last: int | None  # None: to the document's end

    @classmethod
    def parse(cls, raw: str) -> PageSpan:
        if not SPAN.match(raw):
            raise invalid(f"pages must be {SPAN_TEXT}, not {raw!r}")
        if raw == "all":
            return cls(0, None)
        first, _, last = raw.partition("-")
        span = cls(int(first), int(last or first))
        if span.last is not None and span.last < span.first:
            raise invalid(f"pages {raw!r} ends before it starts")
        return span

    def bounds(self, page_count: int) -> tuple[int, int]:
        return self.first, page_count - 1 if self.last is None else self.last


@dataclass
class DocumentRun:
    reading: Reading
    results: list[Result]  # one per page read, in order
    page_count: int
    span: tuple[int, int]


def pool_of(engine: Engine) -> DocumentPool:
    return engine.card.document or DEFAULT_POOL


def read_document(
    engine: Engine,
    data: bytes,
    span: PageSpan,
    choice: Choice,
    deadline: Deadline,
    enqueued: float,
    cap: Cap | None = None,
    pool: DocumentPool | None = None,
) -> DocumentRun:
    """Blocking, in one worker thread: the pages one after another (the first page's answer
    says how many the document has). Full depth (choice.policy None) reads every page.
    pool: the checkpoint's (None) or another, for evaluations."""
    results: list[Result] = []

    def answer(page: int) -> list[float]:
        # Only the first page waited in the queue; later ones start as soon as it is done.
        start = enqueued if not results else time.perf_counter()
        result = engine.classify(data, page, None, choice, deadline, start, cap)
        if not results:
            check_span(span, result.page.pages, result.page.format, engine.settings)
        results.append(result)
        return list(result.outcome.answer.probs)

    def pages() -> Iterator[int]:
        page = span.first
        while True:
            yield page
            page += 1
            if page > span.bounds(results[-1].page.pages)[1]:
                return

    def may_go_on() -> bool:
        # The next page must fit at least its decode and the cheapest exit.
        first_exit = engine.cascade.plan.exits[0].name
        return deadline.can_pay(engine.latency.get("decode") + engine.latency.get(first_exit))

    every = choice.policy is None
    reading = read(pool or pool_of(engine), pages(), answer, may_go_on, every_page=every)
    count = results[0].page.pages
    return DocumentRun(reading, results, count, span.bounds(count))


def check_span(span: PageSpan, page_count: int, kind: str, settings: Settings) -> None:
    first, last = span.bounds(page_count)
    if last >= page_count:
        raise invalid(
            f"pages {first}-{last} do not exist: the {kind.upper()} has {page_count} "
            "page(s), numbered from 0"
        )
    check_length(first, last, settings)


def check_length(first: int, last: int, settings: Settings) -> None:
    """Before any page is read when the range is explicit; after the first page for "all"."""
    if last - first + 1 > settings.max_document_pages:
        raise too_large(
            f"pages {first}-{last} are {last - first + 1} pages; one request reads at most "
            f"{settings.max_document_pages} (DOCEXIT_MAX_DOCUMENT_PAGES): send ranges"
        )
