"""The commands end to end on a tiny model: train (and resume), calibrate, operating points,
evaluate with real tesseract and real layer-by-layer runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from models import calibrate, evaluate, operating_points, train

if shutil.which("tesseract") is None:
    pytest.skip("tesseract is not installed (make sysdeps)", allow_module_level=True)

TINY = """
seed = 3
[data]
root = "{root}"
train_per_class = 2
val_per_class = 1
[model]
hidden_size = 32
num_layers = 2
num_heads = 2
intermediate_size = 64
coordinate_size = 8
shape_size = 0
image_size = 64
patch_size = 32
max_text_tokens = 24
dropout = 0.1
[train]
init = "random"
epochs = 1
batch_size = 8
save_every = 2
"""


def _config(tmp_path: Path, corpus: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(root=corpus))
    return path


def test_training_resumes_to_the_same_weights(corpus: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, corpus)
    train.main(["--config", str(config), "--out", str(tmp_path / "a")])
    train.main(["--config", str(config), "--out", str(tmp_path / "b"), "--max-steps", "2"])
    train.main(["--config", str(config), "--out", str(tmp_path / "b")])  # picks up at step 2
    a, b = (load_file(str(tmp_path / r / "model.safetensors")) for r in ("a", "b"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    summary = json.loads((tmp_path / "a" / "train.json").read_text())
    assert summary["steps"] == 4 and summary["train_pages"] == 32
    assert set(summary["history"][-1]["val_accuracy"]) == set(summary["loss_weights"])


def test_calibrate_operating_points_and_evaluate(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, ckpt = tmp_path / "run", tmp_path / "ckpt"
    train.main(["--config", str(_config(tmp_path, corpus)), "--out", str(run)])
    calibrate.main(["--run", str(run), "--data", str(corpus / "val"), "--out", str(ckpt)])
    card = json.loads((ckpt / "card.json").read_text())
    assert set(card["temperatures"]) == set(card["exits"])
    assert card["calibration"]["pages"] == 16
    operating_points.main(
        ["--checkpoint", str(ckpt), "--data", str(corpus / "val"), "--latency-pages", "2"]
    )
    card = json.loads((ckpt / "card.json").read_text())
    assert card["operating_points"][0]["policy"] == {"name": "full_depth"}
    assert {p["policy"]["name"] for p in card["operating_points"]} >= {
        "global",
        "per_exit",
        "patience",
        "similarity",
    }
    assert card["latency"]["ocr"] > 0 and set(card["latency"]["stages"]) >= set(card["exits"])
    stages = card["latency"]["stages"]
    assert all(stages[f"{s}.{i}"] > 0 for s in ("vision", "mm") for i in (1, 2))  # each layer timed
    assert card["policy"]["name"] == "per_exit"
    capsys.readouterr()
    evaluate.main(
        ["--checkpoint", str(ckpt), "--data", str(corpus / "test"), "--per-class", "1", "--json"]
    )
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 16
    for key in ("encoder_time_ratio", "end_to_end_time_ratio"):
        assert result[key] > 0
    assert 0 <= result["early_exit"]["ocr_skip_rate"] <= 1
    assert set(result["per_exit"]) == set(card["exits"])
    assert 0 <= result["full_depth"]["accuracy"] <= 1
