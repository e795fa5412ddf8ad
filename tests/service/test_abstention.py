"""Abstention in the service: every answer says whether the page is one of the classes
(models.ood, the card's score and threshold), DOCEXIT_ABSTAIN withholds the label of a page
that is not, and docexit_out_of_distribution_total counts such pages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from models.card import Abstention, Card
from models.checkpoint import load_checkpoint
from models.ood import FEATURE_SCORES
from models.ood_features import STATS, FeatureStats
from tests.models.conftest import tiny_batch
from tests.service.conftest import FakeOcr, png
from tests.service.test_metrics import value

FULL = {"policy": '{"name": "global", "tau": 1.1}'}  # answers at the final exit


def with_abstention(src: Path, dst: Path, score: str, threshold: float) -> Path:
    """A copy of the checkpoint whose card abstains by `score`; a feature score gets statistics
    fit on random pages' pooled states, beside the weights as models.ood_eval writes them."""
    if not dst.exists():
        shutil.copytree(src, dst)
    sha = None
    if score in FEATURE_SCORES:
        model, _ = load_checkpoint(dst)
        with torch.inference_mode():
            out = model(**tiny_batch(b=40))
        features = {n: s.features for n, s in out.steps.items() if s.features is not None}
        sha = FeatureStats.fit(features, torch.arange(40) % 4, rank=4).save(dst / STATS)
    abstention = Abstention(
        score=score, threshold=threshold, data=["tests"], pages=1, features_sha256=sha
    )
    Card.read(dst).updated(abstention=abstention).write(dst)
    return dst


@pytest.fixture
def app_for(client_factory: Callable[..., TestClient]) -> Callable[..., TestClient]:
    """A started, ready app on a given checkpoint folder, with settings overrides."""

    def make(checkpoint: Path, **overrides: Any) -> TestClient:
        return client_factory(ocr=FakeOcr(), checkpoint=checkpoint, **overrides)

    return make


def classify(client: TestClient, color: int = 200) -> dict[str, Any]:
    files = {"file": ("p.png", png(color=color), "image/png")}
    r = client.post("/v1/classify", files=files, data=FULL)
    assert r.status_code == 200, r.text
    return r.json()


def test_without_an_abstention_every_page_is_in_distribution(client: TestClient) -> None:
    body = classify(client)
    assert body["in_distribution"] is True and body["label"] is not None
    assert body["ood_score"] == pytest.approx(body["confidence"])  # the calibrated confidence
    assert body["abstained_reason"] is None
    assert client.get("/v1/model").json()["abstention"] is None


@pytest.mark.parametrize(
    ("kind", "abstain"),
    [("energy", False), ("energy", True), ("mahalanobis", True), ("mahalanobis_path", True)],
)
def test_a_page_below_the_threshold_is_out_of_distribution(
    app_for: Callable[..., TestClient],
    checkpoint_dir: Path,
    tmp_path: Path,
    kind: str,
    abstain: bool,
) -> None:
    # The threshold sits between two pages' scores, measured on the checkpoint itself.
    probe = app_for(with_abstention(checkpoint_dir, tmp_path / "a", kind, 0.0))
    light, dark = classify(probe, 250)["ood_score"], classify(probe, 20)["ood_score"]
    assert light != dark
    low, high = sorted([(light, 250), (dark, 20)])
    threshold = (low[0] + high[0]) / 2
    folder = with_abstention(tmp_path / "a", tmp_path / "b", kind, threshold)
    client = app_for(folder, abstain=abstain)
    before = value(client.get("/metrics").text, "docexit_out_of_distribution_total")

    outside, inside = classify(client, low[1]), classify(client, high[1])
    assert outside["ood_score"] == pytest.approx(low[0], abs=1e-4)
    assert outside["in_distribution"] is False and inside["in_distribution"] is True
    assert inside["label"] == inside["top_k"][0]["label"] and inside["abstained_reason"] is None
    if abstain:
        assert outside["label"] is None
        assert "out of distribution" in outside["abstained_reason"]
        assert f"{threshold:.4g}" in outside["abstained_reason"]
    else:
        assert outside["label"] == outside["top_k"][0]["label"]
        assert outside["abstained_reason"] is None
    assert len(outside["top_k"]) > 1  # the guesses are still shown
    after = value(client.get("/metrics").text, "docexit_out_of_distribution_total")
    assert after - before == 1  # the page out of distribution, not the one inside
    card = client.get("/v1/model").json()["abstention"]
    assert card["score"] == kind and card["threshold"] == pytest.approx(threshold)
