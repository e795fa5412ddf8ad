"""Locust scenarios against a running docexit: a mix of generated pages over every class and
scan difficulty, per-request latency budgets, and an operator changing the default budget
mid-run through the admin API. Locust monkey-patches the interpreter (gevent): run it in its
own process, never import this module elsewhere.

    LOCUST_SCENARIO=burst locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000

Environment: LOCUST_SCENARIO steady | ramp | burst (default steady); LOCUST_DURATION seconds
(default 60); LOCUST_USERS page-sending users at the base level (default 4); LOCUST_PAGES a
folder of generated pages (default build/bench-pages; generated there if empty: LOCUST_PER_CLASS
pages, default 2, of each class in LOCUST_CLASSES, default all, comma-separated);
LOCUST_OCR engine | client (client: the generator's words as the `ocr` field, no OCR in the
service); DOCEXIT_ADMIN_TOKEN for the admin user (without it, no budget changes);
LOCUST_ADMIN_PERIOD seconds between budget changes (default 10).

A 503 (queue full) is the service protecting itself, not a failure: it is reported as its own
request type, OVERLOADED, so that --exit-code-on-error flags only real errors."""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, LoadTestShape, between, constant, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # locust adds only loadtests/
from loadtests.pages import BenchPage, make_pages  # noqa: E402
from models.data.labels import CLASSES  # noqa: E402

log = logging.getLogger("docexit.locust")
SCENARIO = os.environ.get("LOCUST_SCENARIO", "steady")
DURATION = float(os.environ.get("LOCUST_DURATION", "60"))
USERS = int(os.environ.get("LOCUST_USERS", "4"))
CLIENT_OCR = os.environ.get("LOCUST_OCR", "engine") == "client"
ADMIN_TOKEN = os.environ.get("DOCEXIT_ADMIN_TOKEN", "")
ADMIN_PERIOD = float(os.environ.get("LOCUST_ADMIN_PERIOD", "10"))
# Per request: no budget (the operator's default applies) or one of these, in ms.
BUDGETS: list[int | None] = [None, None, 150, 400, 1000, 2500]
ADMIN_BUDGETS: list[int | None] = [500, 2000, None]
if SCENARIO not in ("steady", "ramp", "burst"):
    raise SystemExit(f"LOCUST_SCENARIO must be steady, ramp or burst, not {SCENARIO!r}")

PAGES: list[BenchPage] = make_pages(
    Path(os.environ.get("LOCUST_PAGES", "build/bench-pages")),
    per_class=int(os.environ.get("LOCUST_PER_CLASS", "2")),
    classes=tuple(os.environ.get("LOCUST_CLASSES", ",".join(CLASSES)).split(",")),
    workers=1,  # no process pool under gevent
)


class PageUser(HttpUser):
    """Sends a random page of the mix with a random budget, then thinks briefly."""

    wait_time = between(0.05, 0.5)
    labels: set[str] = set()

    def on_start(self) -> None:
        r = self.client.get("/v1/model", name="/v1/model")
        PageUser.labels = set(r.json()["labels"]) if r.status_code == 200 else set()

    @task
    def classify(self) -> None:
        page = random.choice(PAGES)
        budget = random.choice(BUDGETS)
        data: dict[str, str] = {}
        if budget is not None:
            data["latency_budget_ms"] = str(budget)
        if CLIENT_OCR:
            data["ocr"] = page.truth_ocr
        files = {"file": (page.path.name, page.data, "image/png")}
        name = f"/v1/classify budget={budget or 'default'}"
        start = time.perf_counter()
        with self.client.post(
            "/v1/classify", files=files, data=data, name=name, catch_response=True
        ) as r:
            if r.status_code == 503:
                r.success()  # counted below as OVERLOADED instead
                self.overloaded(name, time.perf_counter() - start, r)
            elif r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
            else:
                problem = check_answer(r.json(), budget, PageUser.labels)
                if problem:
                    r.failure(problem)

    def overloaded(self, name: str, seconds: float, r: Any) -> None:
        if "Retry-After" not in r.headers:
            r.failure("503 without Retry-After")
        self.environment.events.request.fire(
            request_type="OVERLOADED",
            name=name,
            response_time=1000.0 * seconds,
            response_length=len(r.content or b""),
            exception=None,
            context={},
        )


def check_answer(body: dict[str, Any], budget: int | None, labels: set[str]) -> str | None:
    """What is wrong with a 200 answer, if anything."""
    if labels and body.get("label") not in labels:
        return f"unknown label {body.get('label')!r}"
    exit_ = body.get("exit", {})
    if not 0 <= int(exit_.get("layer", -1)) <= int(exit_.get("num_layers", 0)):
        return f"exit layer out of range: {exit_}"
    if budget is not None and body.get("policy", {}).get("latency_budget_ms") != budget:
        return f"budget {budget} not applied: {body.get('policy')}"
    return None


class AdminUser(HttpUser):
    """One operator changing the default latency budget every LOCUST_ADMIN_PERIOD seconds,
    and putting back what was in force when the run ends."""

    fixed_count = 1
    wait_time = constant(ADMIN_PERIOD)

    def on_start(self) -> None:
        if len(ADMIN_TOKEN) < 16:
            log.warning("DOCEXIT_ADMIN_TOKEN unset or too short: no admin budget changes")
            raise StopUser()
        self.headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        r = self.client.get("/admin/v1/latency-budget", headers=self.headers, name="admin get")
        self.before = r.json().get("latency_budget_ms") if r.status_code == 200 else None
        self.turn = 0

    @task
    def change_budget(self) -> None:
        value = ADMIN_BUDGETS[self.turn % len(ADMIN_BUDGETS)]
        self.turn += 1
        self.put(value, f"admin budget={value}")

    def put(self, value: int | None, name: str) -> None:
        self.client.put(
            "/admin/v1/latency-budget",
            data=json.dumps({"latency_budget_ms": value}),
            headers={**self.headers, "content-type": "application/json"},
            name=name,
        )

    def on_stop(self) -> None:
        if hasattr(self, "headers"):
            self.put(self.before, "admin restore")


def _users(n: int) -> int:
    return max(1, n) + 1  # + the operator (who stops at once without a token)


class Steady(LoadTestShape):
    """USERS page users for DURATION seconds."""

    abstract = SCENARIO != "steady"

    def tick(self) -> tuple[int, float] | None:
        return None if self.get_run_time() > DURATION else (_users(USERS), float(USERS))


class Ramp(LoadTestShape):
    """From 1 to 3 x USERS page users, evenly over DURATION seconds."""

    abstract = SCENARIO != "ramp"

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        if t > DURATION:
            return None
        return _users(1 + round((3 * USERS - 1) * t / DURATION)), 2.0


class Burst(LoadTestShape):
    """USERS page users, with four bursts to 4 x USERS, each a fifth of its quarter."""

    abstract = SCENARIO != "burst"

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        if t > DURATION:
            return None
        period = DURATION / 4
        bursting = (t % period) >= 0.8 * period
        return _users(4 * USERS if bursting else USERS), float(4 * USERS)
