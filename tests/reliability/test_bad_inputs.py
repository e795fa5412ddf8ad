"""The bad-input corpus (tests.reliability.badinputs) against one real `python -m service`
process with the shipped checkpoint and real Tesseract: every case answers its expected status
as problem+json with a detail, never 500; the service then still classifies a good page; and
refusing the whole corpus (bombs, 10,000-page PDFs, 20 MiB uploads) leaves its memory where it
was."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.processes import SHIPPED, ServiceProcess
from tests.reliability.badinputs import build, headers, multipart

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]

MIB = 1024 * 1024
# Decoding any one bomb of the corpus would take at least 100 MB (the 10000x10000 pages, one
# byte a pixel in grayscale; the others are 10^9 pixels and more), and holding the 20 MiB
# uploads would take 20 MiB each: a growth under 48 MiB after all of them shows none was kept
# or decoded, with room for the allocator's arenas and caches that the first requests warm.
RSS_GROWTH_BOUND = 48 * MIB


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any


@dataclass
class Run:
    manifest: dict[str, Any]
    answers: dict[str, Answer]
    rss_warm: int  # after one good page
    rss_after: int  # after the whole corpus
    good_after: httpx.Response


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("badinputs")
    manifest = build(folder)
    limits = {name: str(value) for name, value in manifest["limits"].items()}
    # The warm-up below is ours; no drain at the end: nothing is in flight by then.
    quick = {"DOCEXIT_WARMUP_REQUESTS": "0", "DOCEXIT_SHUTDOWN_DRAIN_S": "0"}
    service = ServiceProcess(folder / "service.log", **limits, **quick)
    try:
        service.wait_ready()
        good = folder / manifest["control"]["file"]
        service.classify(good)  # warm-up: the first request's allocations are not growth
        rss_warm = service.rss_bytes()
        answers = {}
        for entry in manifest["cases"]:
            body, content_type = multipart(entry, folder)
            r = service.http.post(
                "/v1/classify",
                content=body,
                headers={**headers(entry), "Content-Type": content_type},
            )
            parsed = r.json() if r.headers.get("content-type", "").endswith("json") else r.text
            answers[entry["name"]] = Answer(
                r.status_code, r.headers.get("content-type", ""), parsed
            )
        rss_after = service.rss_bytes()
        files = {"file": (good.name, good.read_bytes(), "image/png")}
        good_after = service.http.post("/v1/classify", files=files)
        yield Run(manifest, answers, rss_warm, rss_after, good_after)
    finally:
        service.stop()


def test_the_corpus_is_large_and_covers_every_refusal(run: Run) -> None:
    statuses = [e["status"] for e in run.manifest["cases"]]
    assert len(statuses) >= 50
    assert {413, 415, 422} == set(statuses)


def test_every_case_answers_its_expected_status(run: Run) -> None:
    wrong = {
        e["name"]: (run.answers[e["name"]].status, e["status"], run.answers[e["name"]].body)
        for e in run.manifest["cases"]
        if run.answers[e["name"]].status != e["status"]
    }
    assert not wrong, f"(got, expected, body) per case: {wrong}"


def test_no_case_is_a_server_error(run: Run) -> None:
    errors = {name: a.body for name, a in run.answers.items() if a.status >= 500}
    assert not errors


def test_every_refusal_is_problem_json_with_a_detail(run: Run) -> None:
    bad = {
        name: (a.content_type, a.body)
        for name, a in run.answers.items()
        if not (
            a.content_type == "application/problem+json"
            and isinstance(a.body, dict)
            and a.body.get("status") == a.status
            and isinstance(a.body.get("detail"), str)
            and a.body["detail"].strip()
        )
    }
    assert not bad


def test_the_service_still_classifies_a_good_page(run: Run) -> None:
    assert run.good_after.status_code == 200, run.good_after.text
    assert run.good_after.json()["label"]


def test_memory_stays_bounded(run: Run) -> None:
    growth = run.rss_after - run.rss_warm
    assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / MIB:.1f} MiB over the corpus"
