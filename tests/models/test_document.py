"""The document pool (models.document) and its fit (models.document_fit): the pooled answer, the
reader's stopping, and a fit that learns which pages carry the class."""

from __future__ import annotations

import math
import random

import pytest

from models.document import DocumentPool, read
from models.document_fit import (
    AnsweredDocument,
    cross_validate,
    fit_pool,
    measure,
    prefix_log_loss,
    simulate,
)

A, B = [0.8, 0.2], [0.3, 0.7]


def test_equal_weights_at_t1_pool_to_the_normalised_product() -> None:
    probs = DocumentPool().combine([A, B])
    product = [A[0] * B[0], A[1] * B[1]]
    assert probs == pytest.approx([p / sum(product) for p in product])


def test_weights_and_temperature_shape_the_pool() -> None:
    assert DocumentPool(rest_weight=0.0).combine([A, B, B]) == pytest.approx(A)
    hot = DocumentPool(temperature=2.0).combine([A])
    assert hot[0] == pytest.approx(math.sqrt(0.8) / (math.sqrt(0.8) + math.sqrt(0.2)))
    # A zero probability is floored, not a veto.
    assert DocumentPool().combine([[1.0, 0.0], [0.0, 1.0]])[0] == pytest.approx(0.5)


def test_the_reader_stops_once_sure_and_otherwise_reads_every_page() -> None:
    asked: list[int] = []

    def answer(page: int) -> list[float]:
        asked.append(page)
        return [0.6, 0.4]

    sure = read(DocumentPool(threshold=0.75), range(5), answer)
    assert sure.read == asked == [0, 1, 2] and sure.stopped == "confident"  # 0.6^3/... > 0.75
    assert read(DocumentPool(threshold=0.75), range(5), answer, every_page=True).read == [
        0,
        1,
        2,
        3,
        4,
    ]
    late = read(DocumentPool(threshold=0.99), range(5), answer, may_go_on=lambda: False)
    assert late.read == [0] and late.stopped == "deadline"  # at least one page, always


def documents(n: int, seed: int) -> list[AnsweredDocument]:
    """First pages say the class; later pages are noise that leans to a random class."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        label = rng.randrange(2)
        first = [0.85, 0.15] if label == 0 else [0.15, 0.85]
        rest = []
        for _ in range(rng.randrange(1, 6)):
            lean = rng.random() * 0.9 + 0.05
            rest.append([lean, 1 - lean])
        docs.append(AnsweredDocument(f"doc{i}", label, [first, *rest]))
    return docs


def test_the_fit_learns_that_later_pages_are_noise_and_reads_fewer_pages() -> None:
    docs = documents(60, seed=1)
    pool = fit_pool(docs)
    assert pool.rest_weight <= 0.1
    m = measure(pool, docs)
    assert m["accuracy"] >= m["accuracy_all_pages"] == 1.0
    assert m["mean_pages_read"] < m["mean_pages"]
    cv = cross_validate(docs, k=2)
    assert cv["accuracy"] == 1.0 and cv["mean_pages_read"] < cv["mean_pages"]


def test_simulate_is_the_reader_on_recorded_answers() -> None:
    doc = documents(1, seed=3)[0]
    pool = DocumentPool(threshold=0.9)
    live = read(pool, range(len(doc.pages)), lambda i: doc.pages[i])
    assert simulate(pool, doc) == (live.prediction, len(live.read))


def test_the_vectorised_log_loss_is_the_pool_s_own_arithmetic() -> None:
    docs = documents(12, seed=5)
    pool = DocumentPool(rest_weight=0.3, temperature=1.7, growth=0.5)
    by_combine = [
        -math.log(max(pool.combine(d.pages[:k])[d.label], 1e-12))
        for d in docs
        for k in range(1, len(d.pages) + 1)
    ]
    assert prefix_log_loss(pool, docs) == pytest.approx(sum(by_combine) / len(by_combine))


def test_growth_cools_the_pool_as_pages_add_up() -> None:
    flat, growing = DocumentPool(), DocumentPool(growth=1.0)
    assert flat.combine([A]) == growing.combine([A])  # one page: no growth yet
    assert max(growing.combine([A, A, A])) < max(flat.combine([A, A, A]))
