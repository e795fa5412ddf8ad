"""The typed card: the shipped card round-trips byte for byte, older cards load upgraded, and
fields are validated, not read through string keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.card import DEFAULT_BAND, Card, CheckpointError, OperatingPoint
from models.plan import OCR_BAND, OCR_PAGE

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "checkpoints" / "default" / "card.json"


def test_the_shipped_card_round_trips_exactly() -> None:
    text = SHIPPED.read_text()
    card = Card.parse(json.loads(text))
    assert card.dump_json() + "\n" == text
    assert card.latency is not None and card.latency.banded
    assert set(card.latency.ocr_stages) == {OCR_PAGE, OCR_BAND}
    assert card.policy is not None and card.policy.build() is not None
    assert card.model_shape().exit_names() == card.exits


def _old_card() -> dict[str, object]:
    """A card as an early release wrote it: no band, no exit index or quantiles, a config
    from before the ink encoding and letterboxing, and a field this release does not know."""
    raw = json.loads(SHIPPED.read_text())
    for key in ("ocr_band", "metrics", "certification", "abstention"):
        raw.pop(key)
    for key in ("pixels", "page_fit"):
        raw["config"].pop(key)
    raw["latency"] = {"ocr": 1.5, "stages": raw["latency"]["stages"]}
    raw["operating_points"] = [
        {"policy": {"name": "global", "tau": 0.9}, "accuracy": 0.8, "mean_exit_layer": 2.0,
         "encoder_s": 0.01, "ocr_skip_rate": 0.5},
    ]  # fmt: skip
    raw["from_a_newer_writer"] = {"kept": True}
    return raw


def test_an_older_card_loads_upgraded_and_keeps_what_it_does_not_know() -> None:
    card = Card.parse(_old_card())
    assert card.ocr_band == DEFAULT_BAND  # cards before bands: the default band
    assert card.model_shape().pixels == "signed" and card.model_shape().page_fit == "squash"
    assert card.latency is not None and not card.latency.banded
    assert card.latency.ocr_stages == {OCR_PAGE: 1.5}
    (point,) = card.policy_points()
    assert point.depth == 2.0 and point.ocr_s is None  # no index recorded: the layer
    assert json.loads(card.dump_json())["from_a_newer_writer"] == {"kept": True}


def test_updates_are_validated_and_wrong_formats_refused() -> None:
    card = Card.parse(_old_card())
    moved = card.updated(thresholds={"mm.1": 0.9}, ocr_band=None)
    assert moved.thresholds == {"mm.1": 0.9} and moved.ocr_band is None
    assert json.loads(moved.dump_json())["ocr_band"] is None  # written: None means no band
    with pytest.raises(ValidationError):
        card.updated(operating_points=[{"accuracy": 0.5}])  # a point needs its policy
    with pytest.raises(CheckpointError, match="format"):
        Card.parse({**_old_card(), "format": "something-else/2"})
    assert OperatingPoint.model_validate({"policy": {"name": "full_depth"}}).policy.build() is None
