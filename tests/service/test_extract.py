"""POST /v1/extract on a tiny checkpoint with a tiny random field decoder: classification as
/v1/classify gives it, then the decoder's fields and exits; 404 without a decoder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from models.checkpoint import load_checkpoint
from models.data.families import REQUIRED_FIELDS
from models.decoder import DecoderConfig, MultiExitDecoder
from models.decoder_card import DecoderPolicyCard
from models.decoder_checkpoint import save_decoder
from models.fields import fixed_vocabulary
from models.pretrained import WORD_EMBEDDINGS
from tests.service.conftest import assert_problem, png
from tests.service.test_metrics import value

WORDS = json.dumps(
    {"words": [{"text": t, "box": [5, 5 + 9 * i, 60, 12 + 9 * i]}
               for i, t in enumerate("Invoice No.: 37134 Date: 2001-08-23 TOTAL 11.50".split())]}
)  # fmt: skip


@pytest.fixture(scope="module")
def with_decoder(checkpoint_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("decoder") / "ckpt"
    shutil.copytree(checkpoint_dir, folder)
    model, _ = load_checkpoint(folder)
    words = model.state_dict()[WORD_EMBEDDINGS]
    torch.manual_seed(0)
    c = DecoderConfig(vocab_size=words.shape[0], fixed=list(fixed_vocabulary()),
                      hidden_size=words.shape[1], num_layers=3, num_heads=2,
                      intermediate_size=32, adapter_size=4, max_length=16,
                      dropout=0.0)  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    with torch.no_grad():
        decoder.embed.weight.copy_(words)
    save_decoder(
        decoder, folder, [1.0, 1.0, 1.0], DecoderPolicyCard(name="step_confidence", tau=0.5)
    )
    return folder


def extract(client: TestClient, **form: str) -> Any:
    files = {"file": ("p.png", png(), "image/png")}
    return client.post("/v1/extract", files=files, data={"ocr": WORDS, **form})


def test_extract_classifies_then_reads_the_class_fields(
    client_factory: Callable[..., TestClient], with_decoder: Path
) -> None:
    client = client_factory(checkpoint=with_decoder)
    r = extract(client)
    assert r.status_code == 200, r.text
    body = r.json()
    label = body["classification"]["label"]
    same = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")},
                       data={"ocr": WORDS}).json()  # fmt: skip
    assert label == same["label"] and body["classification"]["exit"] == same["exit"]
    assert set(body["fields"]) <= set(REQUIRED_FIELDS[label])
    d = body["decoder"]
    assert d["policy"] == "step_confidence" and d["num_layers"] == 3
    assert sum(d["exit_layers"].values()) == d["steps"]
    if REQUIRED_FIELDS[label]:
        assert d["steps"] >= 1
        assert d["encoder_layers"] == 3 - body["classification"]["exit"]["layer"] or (
            body["classification"]["exit"]["stage"] == "vision" and d["encoder_layers"] == 3
        )
    described = client.get("/v1/model").json()["decoder"]
    assert (described["policy"]["name"], described["policy"]["tau"]) == ("step_confidence", 0.5)
    assert described["fields"]["invoice"] == list(REQUIRED_FIELDS["invoice"])
    metrics = client.get("/metrics").text
    assert value(metrics, "docexit_decoder_steps_total") == d["steps"]
    assert value(metrics, "docexit_decoder_exit_layer_count") == d["steps"]


def test_the_decoder_policy_is_the_requests_to_choose(
    client_factory: Callable[..., TestClient], with_decoder: Path
) -> None:
    client = client_factory(checkpoint=with_decoder)
    full = extract(client, decoder_policy="full_depth", policy='{"name": "global", "tau": 1.1}')
    assert full.status_code == 200, full.text
    d = full.json()["decoder"]
    assert d["policy"] == "full_depth" and set(d["exit_layers"]) <= {"3"}
    body = assert_problem(extract(client, decoder_policy="beam"), 422)
    assert "decoder_policy" in body["detail"]


def test_without_a_decoder_extract_is_a_404(client: TestClient) -> None:
    body = assert_problem(extract(client), 404)
    assert "no field decoder" in body["detail"] and "/v1/classify" in body["detail"]
    assert client.get("/v1/model").json()["decoder"] is None
