"""One request to a variant and what came back, as a Sample; closed-loop and open-loop load.
Threads, not gevent: the bench runs in the same process as its report and plots (locust, which
monkey-patches the interpreter, runs apart: loadtests/locustfile.py)."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from loadtests.pages import BenchPage

TIMEOUT_S = 300.0  # an accepted request waits its turn however long: latency is what we measure


@dataclass(frozen=True)
class Variant:
    key: str  # a | b | c, or a sweep/policy point's name
    title: str
    url: str
    fields: dict[str, str] = field(default_factory=dict)  # form fields sent with every page


@dataclass
class Sample:
    variant: str
    page: str
    truth: str
    difficulty: str
    start: float  # s since the phase began (monotonic)
    latency_s: float  # client-side, upload to parsed answer
    status: int  # HTTP status; 0 for a transport error
    label: str | None = None
    exit_name: str | None = None
    exit_layer: int | None = None
    stage: str | None = None
    ocr_skipped: bool | None = None
    ocr_calls: int | None = None
    deadline_hit: bool | None = None
    server_ms: dict[str, float] | None = None
    budget_ms: int | None = None
    certified: bool | None = None  # the answer's policy is certified (policy.guarantee)
    degraded: str | None = None  # the rung it was degraded to under load (policy.degradation)
    retry_after: str | None = None  # a refusal's Retry-After header
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def correct(self) -> bool:
        return self.ok and self.label == self.truth

    @property
    def end(self) -> float:
        return self.start + self.latency_s

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def send(
    http: httpx.Client,
    variant: Variant,
    page: BenchPage,
    t0: float,
    client_ocr: bool = False,
    extra: dict[str, str] | None = None,
) -> Sample:
    data = dict(variant.fields) | (extra or {})
    if client_ocr:
        data["ocr"] = page.truth_ocr
    budget = data.get("latency_budget_ms")
    files = {"file": (page.path.name, page.data, "image/png")}
    start = time.monotonic()
    sample = Sample(variant.key, page.page_id, page.label, page.difficulty, start - t0, 0.0, 0)
    sample.budget_ms = int(budget) if budget else None
    try:
        r = http.post(f"{variant.url}/v1/classify", files=files, data=data)
        body = r.json() if r.status_code == 200 else None
        sample.latency_s, sample.status = time.monotonic() - start, r.status_code
    except (httpx.HTTPError, ValueError) as exc:
        sample.latency_s, sample.error = time.monotonic() - start, f"{type(exc).__name__}: {exc}"
        return sample
    if body is None:
        sample.error, sample.retry_after = r.text[:200], r.headers.get("retry-after")
        return sample
    sample.label, sample.ocr_skipped = body["label"], body["ocr_skipped"]
    sample.exit_name, sample.exit_layer = body["exit"]["name"], body["exit"]["layer"]
    sample.stage, sample.ocr_calls = body["exit"]["stage"], body.get("ocr_calls")
    sample.deadline_hit, sample.server_ms = body.get("deadline_hit"), body.get("timings_ms")
    policy = body.get("policy", {})
    sample.certified = policy.get("guarantee", {}).get("certified")
    sample.degraded = (policy.get("degradation") or {}).get("rung")
    return sample


def client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_S, limits=httpx.Limits(max_connections=256))


class PageCycle:
    """Pages in a fixed order, shared by threads: every variant meets the same sequence."""

    def __init__(self, pages: Sequence[BenchPage]) -> None:
        self._it, self._lock = itertools.cycle(pages), threading.Lock()

    def next(self) -> BenchPage:
        with self._lock:
            return next(self._it)


def closed_loop(
    variant: Variant,
    pages: Sequence[BenchPage],
    concurrency: int,
    client_ocr: bool = False,
) -> tuple[list[Sample], float]:
    """`concurrency` clients, each sending the next page of `pages` as soon as its last one is
    answered, until every page has been sent once; returns the samples and the seconds from the
    first request to the last answer. The same pages for every variant: a fixed amount of work,
    not a fixed time, so no variant is measured on an easier prefix of the mix."""
    todo, samples, lock = list(reversed(pages)), [], threading.Lock()
    t0 = time.monotonic()

    def user() -> None:
        with client() as http:
            while True:
                with lock:
                    if not todo:
                        return
                    page = todo.pop()
                s = send(http, variant, page, t0, client_ocr)
                with lock:
                    samples.append(s)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, time.monotonic() - t0


def open_loop(
    variant: Variant,
    pages: Sequence[BenchPage],
    rate: float,
    seconds: float,
    client_ocr: bool = False,
    seed: int = 0,
) -> list[Sample]:
    """Poisson arrivals at `rate` per second for `seconds`, whatever the server does (an
    overloaded server must refuse, not slow the arrivals down); every request is waited for."""
    rng, cycle = random.Random(seed), PageCycle(pages)
    arrivals, at = [], rng.expovariate(rate)
    while at < seconds:
        arrivals.append(at)
        at += rng.expovariate(rate)
    t0 = time.monotonic()
    with client() as http, ThreadPoolExecutor(128, thread_name_prefix="arrival") as pool:
        futures = []
        for at in arrivals:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            futures.append(pool.submit(send, http, variant, cycle.next(), t0, client_ocr))
        return [f.result() for f in futures]
