"""Degrade before shedding (service.pressure): the backlog's predicted wait, and the rung a
request steps down to as that wait eats its latency target."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from models.card import Card, Latency
from models.checkpoint import read_card
from service.budget import Choice, resolve
from service.errors import ProblemError
from service.ladder import FIT
from service.latency_model import LatencyModel
from service.policy_spec import build_policy
from service.pressure import HEADROOM, SHED, Admission, Backlog, Prices, admit
from tests.service.conftest import LATENCY

WORKERS = 2


@pytest.fixture
def card(checkpoint_dir: Path) -> Card:
    return read_card(checkpoint_dir)


@pytest.fixture
def prices(card: Card) -> Prices:
    plan = card.model_shape().plan
    return Prices(card, LatencyModel(Latency.model_validate(LATENCY), plan), plan, band=True)


def loaded(seconds_each: float, requests: int) -> Backlog:
    """A backlog of requests admitted and not started, each priced at seconds_each."""
    backlog = Backlog(WORKERS)
    for _ in range(requests):
        backlog.admit(seconds_each)
    return backlog


def run(
    prices: Prices, backlog: Backlog, spec: Any, budget_ms: int | None = None, **kw: Any
) -> Admission:
    latency, card = prices.latency, prices.card
    choice = resolve(spec, "request", budget_ms, card, latency)

    def shallower(seconds: float) -> Choice:
        return resolve(spec, "request", max(1, round(seconds * 1000)), card, latency)

    budget_s = None if budget_ms is None else budget_ms / 1000
    degrade = kw.pop("degrade", True)
    return admit(prices, backlog, choice, budget_s, shallower, degrade=degrade, **kw)


def test_a_request_waits_only_when_every_worker_is_busy() -> None:
    backlog = loaded(1.0, WORKERS - 1)
    assert backlog.wait_s() == 0.0
    backlog.admit(1.0)
    assert backlog.wait_s() == pytest.approx(WORKERS * 1.0 / WORKERS)
    third = backlog.admit(3.0)
    assert backlog.wait_s() == pytest.approx(5.0 / WORKERS)
    backlog.start(third)  # running work counts only what is left of it
    time.sleep(0.05)
    assert backlog.wait_s() < 5.0 / WORKERS - 0.02
    backlog.finish(third)
    assert len(backlog) == WORKERS


def test_what_requests_really_take_corrects_the_prices() -> None:
    backlog = Backlog(WORKERS)
    for _ in range(30):  # every request takes about four times its price
        ticket = backlog.admit(0.005)
        backlog.start(ticket)
        time.sleep(0.02)
        backlog.finish(ticket)
    assert backlog.mix > 2.5
    never_ran = backlog.admit(1.0)
    mix = backlog.mix
    backlog.finish(never_ran)  # refused or failed before a worker took it: no evidence
    assert backlog.mix == mix


def test_no_wait_no_degradation(prices: Prices) -> None:
    a = run(prices, Backlog(WORKERS), "global")
    assert a.degradation is None and a.cap is None and a.deadline_s is None
    assert a.choice.knob == {"tau": 1.1}  # the family's most accurate point


def test_a_wait_steps_down_the_ladder_and_sets_the_target_as_deadline(prices: Prices) -> None:
    idle = run(prices, Backlog(WORKERS), "global")
    target = HEADROOM * prices.bound(idle.choice)
    # Work ahead leaves less than the point's bound, but enough for a cheaper point.
    backlog = loaded((target - 0.5 * prices.bound(idle.choice)) * WORKERS / 3, 3)
    a = run(prices, backlog, "global")
    assert a.degradation is not None and a.degradation.rung == "shallower_point"
    assert a.cap is None and a.deadline_s == pytest.approx(target)
    assert a.choice.point is not None and idle.choice.point is not None
    assert a.choice.point.accuracy < idle.choice.point.accuracy
    assert prices.bound(a.choice) <= a.pressure_budget_s
    assert a.degradation.pressure_budget_s == pytest.approx(a.pressure_budget_s)


def test_a_policy_without_a_ladder_is_capped_band_first_then_vision(prices: Prices) -> None:
    spec = {"name": "global", "tau": 0.99}  # an explicit policy: no cheaper point to go to
    target = 1.0
    policy = build_policy(spec, prices.card.exits, ("policy",))
    vision, band = prices.capped(policy, "vision"), prices.capped(policy, "band")
    bound = prices.bound(Choice(policy, "global", {"tau": 0.99}, "request"))
    assert vision is not None and band is not None and vision < band < bound < target
    rungs = []
    # Rooms (what the wait leaves of the target) where the policy no longer fits, then the band,
    # then nothing (the cheapest runs under the deadline); then a wait past SHED targets.
    rooms = (0.5 * (band + bound) / FIT, 0.5 * (vision + band) / FIT, 0.5 * vision)
    for wait in (*(target - room for room in rooms), SHED * target):
        backlog = loaded(wait * WORKERS / 3, 3)
        try:
            a = run(prices, backlog, spec, target_s=target)
        except ProblemError as exc:
            rungs.append(f"refused {exc.status_code} {exc.headers}")
            continue
        assert a.degradation is not None and a.choice.knob == {"tau": 0.99}
        assert a.deadline_s == target
        rungs.append(f"{a.degradation.rung} {a.cap}")
    assert rungs == [
        "no_page_ocr band",
        "vision_only vision",
        "vision_only vision",
        "refused 503 {'Retry-After': '2'}",
    ]


def test_a_request_with_its_own_budget_is_never_refused(prices: Prices) -> None:
    backlog = loaded(100.0, 4)  # minutes of work ahead
    a = run(prices, backlog, "auto", budget_ms=200)
    assert a.degradation is not None and a.deadline_s == pytest.approx(0.2)
    with pytest.raises(ProblemError) as refused:
        run(prices, backlog, "auto")
    assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "60"}


def test_switched_off_or_full_depth_runs_as_asked(prices: Prices) -> None:
    backlog = loaded(100.0, 4)
    off = run(prices, backlog, "global", degrade=False)
    assert off.degradation is None and off.deadline_s is None and off.choice.knob == {"tau": 1.1}
    full = Choice(None, "full_depth", {}, "request")
    a = admit(prices, backlog, full, None, lambda s: full, degrade=True)
    assert a.degradation is None and a.deadline_s is None
