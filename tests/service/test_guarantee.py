"""Certified operating points in the service: "auto" picks the cheapest point certified at the ε
in force, a budget picks among them, each answer says which guarantee it carries, and operators
set ε through the audited admin API."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.card import Candidate, Card, Certification, Latency, OperatingPoint
from service.budget import resolve
from service.ladder import cheapest_point
from service.latency_model import LatencyModel
from tests.service.conftest import (
    LATENCY,
    OPERATING_POINTS,
    TOKEN,
    assert_problem,
    png,
)

AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "carol"}
# Safest first: never exiting early, then the per-exit point, then the cheaper global ones.
TESTED = [
    (OPERATING_POINTS[i]["policy"], risky) for i, risky in ((4, 0), (3, 1), (2, 30), (1, 200))
]


def certification(epsilon: float = 0.01) -> Certification:
    return Certification(
        epsilon=epsilon,
        delta=0.1,
        risk="harm",
        reference="full_depth",
        pages=1000,
        data=["calibration"],
        tested=[Candidate.model_validate({"policy": p, "risky": k}) for p, k in TESTED],
    )


@pytest.fixture
def card(checkpoint_dir: Path) -> Card:
    return Card.read(checkpoint_dir).updated(certification=certification())


@pytest.fixture
def latency(card: Card) -> LatencyModel:
    return LatencyModel(Latency.model_validate(LATENCY), card.model_shape().plan)


def test_auto_uses_the_cheapest_point_certified_at_the_epsilon_in_force(
    card: Card, latency: LatencyModel
) -> None:
    strict = resolve("auto", "settings", None, card, latency, 0.01)
    assert strict.knob == {"taus": {"vision.3": 0.9, "mm.1": 0.8}}  # 30/1000 fails at 1%
    assert strict.guarantee is not None and strict.guarantee.certified
    assert (strict.guarantee.epsilon, strict.guarantee.calibration_pages) == (0.01, 1000)
    loose = resolve("auto", "settings", None, card, latency, 0.05)  # 3% passes at 5%
    assert loose.knob == {"tau": 0.5} and loose.guarantee and loose.guarantee.certified
    none = resolve("auto", "settings", None, card, latency, 1e-5)
    assert none.policy is None and none.guarantee and not none.guarantee.certified
    assert "no early-exit point is certified" in none.guarantee.detail


def test_a_budget_picks_among_certified_points_and_says_when_none_fits(
    card: Card, latency: LatencyModel
) -> None:
    roomy = resolve("auto", "request", 10_000, card, latency, 0.01)
    assert roomy.guarantee and roomy.guarantee.certified
    assert roomy.knob in ({"tau": 1.1}, {"taus": {"vision.3": 0.9, "mm.1": 0.8}})
    tight = resolve("auto", "request", 5, card, latency, 0.01)  # OCR alone costs 200 ms
    assert tight.guarantee and not tight.guarantee.certified
    assert "fits the 5 ms budget" in tight.guarantee.detail and tight.policy is not None


def test_explicit_policies_carry_the_guarantee_only_when_certified(
    card: Card, latency: LatencyModel
) -> None:
    certified = resolve({"name": "global", "tau": 1.1}, "request", None, card, latency, 0.01)
    assert certified.guarantee and certified.guarantee.certified
    other = resolve({"name": "global", "tau": 0.5}, "request", None, card, latency, 0.01)
    assert other.guarantee and not other.guarantee.certified


@pytest.fixture
def certified_client(
    checkpoint_dir: Path, tmp_path: Path, client_factory: Callable[..., TestClient]
) -> TestClient:
    folder = tmp_path / "certified"
    shutil.copytree(checkpoint_dir, folder)
    Card.read(folder).updated(certification=certification()).write(folder)
    return client_factory(checkpoint=folder)


def test_answers_and_the_model_card_show_the_guarantee(certified_client: TestClient) -> None:
    card = certified_client.get("/v1/model").json()["certification"]
    assert card["epsilon"] == 0.01 and card["calibration_pages"] == 1000
    assert [p["certified"] for p in card["points"]] == [True, True, False, False]
    r = certified_client.post("/v1/classify", files={"file": ("p.png", png())})
    assert r.status_code == 200, r.text
    guarantee = r.json()["policy"]["guarantee"]
    assert guarantee["certified"] and guarantee["reference"] == "full_depth"
    assert r.json()["policy"]["knob"] == {"taus": {"vision.3": 0.9, "mm.1": 0.8}}
    full = certified_client.post(
        "/v1/classify", files={"file": ("p.png", png())}, data={"full_depth": "true"}
    )
    assert not full.json()["policy"]["guarantee"]["certified"]


def test_operators_set_epsilon_audited_and_the_next_answer_follows(
    certified_client: TestClient,
) -> None:
    r = certified_client.put("/admin/v1/epsilon", headers=AUTH, json={"epsilon": 0.05})
    assert r.status_code == 200 and r.json()["epsilon"] == 0.05
    answer = certified_client.post("/v1/classify", files={"file": ("p.png", png())}).json()
    assert answer["policy"]["knob"] == {"tau": 0.5}
    assert answer["policy"]["guarantee"]["epsilon"] == 0.05
    shown = certified_client.get("/v1/model").json()["certification"]
    assert shown["epsilon"] == 0.05 and shown["card_epsilon"] == 0.01
    audit = certified_client.get("/admin/v1/audit", headers=AUTH).json()
    entry = (audit[0]["field"], audit[0]["new"], audit[0]["actor"])
    assert entry == ("epsilon", 0.05, "carol@testclient")
    for bad in (0, 1, -0.1, "0.05", 2):
        r = certified_client.put("/admin/v1/epsilon", headers=AUTH, json={"epsilon": bad})
        assert_problem(r, 422)
    assert certified_client.put("/admin/v1/epsilon", json={"epsilon": 0.05}).status_code == 401


def test_epsilon_is_refused_on_a_checkpoint_without_a_certificate(client: TestClient) -> None:
    r = client.put("/admin/v1/epsilon", headers=AUTH, json={"epsilon": 0.05})
    assert "no certificate" in assert_problem(r, 409)["detail"]
    answer = client.post("/v1/classify", files={"file": ("p.png", png())}).json()
    assert answer["policy"]["guarantee"] == {
        "certified": False,
        "epsilon": None,
        "delta": None,
        "reference": None,
        "calibration_pages": None,
        "detail": "the checkpoint carries no certificate",
    }


def test_without_a_budget_the_cheapest_is_by_mean_price_not_by_the_nine_in_ten_bound(
    latency: LatencyModel,
) -> None:
    """Two points that both read most pages to the end share their p90 bound; the one that
    stops early on the rest costs less on average, and that is the one a request without a
    budget should get (a tie on the bound once picked a point that never exits early)."""
    common = {"encoder_p90_s": 0.02, "ocr_p90_s": 0.2, "accuracy": 0.9}
    never = OperatingPoint.model_validate(
        {"policy": {"name": "global", "tau": 1.1}, "encoder_s": 0.02, "ocr_s": 0.2, **common}
    )
    early = OperatingPoint.model_validate(
        {"policy": {"name": "global", "tau": 0.9}, "encoder_s": 0.01, "ocr_s": 0.1, **common}
    )
    assert latency.bound(never) == latency.bound(early)
    assert cheapest_point([never, early], latency) is early
    assert cheapest_point([early, never], latency) is early
