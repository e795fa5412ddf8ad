"""The commands end to end on a tiny model: train (and resume), export with calibrated
temperatures, operating points, evaluate with real tesseract and real layer-by-layer runs; and
what evaluation guarantees under policies whose answers are known in advance."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from models import evaluate, export, operating_points, train
from models.data.labels import CLASSES
from models.dataset import list_pages
from models.ocr import ENGINES, OcrWord
from models.runtime import Cascade, Prediction

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
LAYERS = 2  # TINY's num_layers
FINAL = f"mm.{LAYERS}"
CHEAP = ("budget", "file_folder", "presentation")  # few words: about a second of OCR each


def _config(tmp_path: Path, corpus: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(root=corpus))
    return path


def _layer(exit_name: str) -> int:
    """Encoder layers its stream has run ("vision.2": 2; an embedding exit: 0)."""
    where = exit_name.split(".")[1]
    return int(where) if where.isdigit() else 0


@pytest.fixture(scope="module")
def checkpoint(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model trained for an epoch and exported with temperatures fitted on val."""
    tmp = tmp_path_factory.mktemp("pipeline")
    run, ckpt = tmp / "run", tmp / "ckpt"
    train.main(["--config", str(_config(tmp, corpus)), "--out", str(run)])
    export.main(["--run", str(run), "--data", str(corpus / "val"), "--out", str(ckpt)])
    return ckpt


def _copy_with(checkpoint: Path, folder: Path, **card_fields: Any) -> Path:
    """A copy of the checkpoint whose card has these fields replaced (weights untouched)."""
    shutil.copytree(checkpoint, folder)
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, **card_fields}))
    return folder


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


def _answers(report: dict[str, Any]) -> dict[str, str]:
    """True class -> answer, from a class report's confusion (one page per class)."""
    answers = {}
    for truth, row in report["confusion"].items():
        assert sum(row.values()) == 1, (truth, row)
        answers[truth] = next(iter(row))
    return answers


def _check_consistent(result: dict[str, Any], exits: list[str]) -> None:
    """What every evaluation's numbers owe each other, whatever the policy (one page a class)."""
    n = result["n"]
    early, full = result["early_exit"], result["full_depth"]
    counts = early["exits"]
    assert sum(counts.values()) == n and set(counts) <= set(exits)
    assert early["mean_exit_layer"] == pytest.approx(
        sum(c * _layer(e) for e, c in counts.items()) / n
    )
    # OCR is skipped exactly on the pages a vision exit answered (the cascade reads before the
    # multimodal stream, and a vision exit answers before any OCR).
    vision = sum(c for e, c in counts.items() if "vision" in e)
    assert early["ocr_skip_rate"] == pytest.approx(vision / n)
    for name, summary in (("full_depth", full), ("early_exit", early)):
        answers = _answers(result["classes"][name])
        assert len(answers) == n
        right = sum(truth == answer for truth, answer in answers.items())
        assert summary["accuracy"] == pytest.approx(right / n)  # the share of pages right
        assert result["classes"][name]["accuracy"] == pytest.approx(right / n)
    # Full depth is the final exit on the whole page's words, as the per-exit report reads it.
    assert full["accuracy"] == pytest.approx(result["per_exit"][FINAL]["accuracy"])
    assert set(result["per_exit"]) == set(exits)


def test_export_operating_points_and_evaluate(
    checkpoint: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = _copy_with(checkpoint, tmp_path / "ckpt")
    card = json.loads((ckpt / "card.json").read_text())
    assert set(card["temperatures"]) == set(card["exits"])
    assert card["exits"][0] == "emb.vision_avg" and card["exits"][-1] == FINAL
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
    # Real tesseract on the three test pages it reads fastest (all sixteen take minutes; the
    # tests below run every page through an instant OCR engine).
    sample = tmp_path / "sample"
    for label in CHEAP:
        shutil.copytree(corpus / "test" / label, sample / label)
    capsys.readouterr()
    evaluate.main(["--checkpoint", str(ckpt), "--data", str(sample), "--per-class", "1", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == len(CHEAP) and result["policy"] == card["policy"]
    _check_consistent(result, card["exits"])
    assert 0 <= result["early_exit"]["top_band_only_rate"] <= 1
    for key in ("encoder_time_ratio", "end_to_end_time_ratio"):
        assert result[key] > 0


class TruthOcr:
    """An OCR engine that reads a page's ground-truth words from the generator's record beside
    it (instant and deterministic), and counts its calls per page. Whole pages only."""

    name = "truth"
    calls: Counter[str] = Counter()

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        path = Path(getattr(image, "filename", ""))
        assert path.suffix == ".png", "a crop of a page: this engine reads whole pages only"
        TruthOcr.calls[path.name] += 1
        words = json.loads(path.with_suffix(".json").read_text())["words"]
        return [OcrWord(w["text"], tuple(w["box"]), 1.0) for w in words]


Recorded = list[tuple[bool, Prediction]]  # (full depth?, what the cascade answered)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Every answer the cascade gives during the test, in order, and the truth OCR engine."""
    TruthOcr.calls = Counter()
    monkeypatch.setitem(ENGINES, "truth", TruthOcr)
    seen: Recorded = []
    classify: Callable[..., Prediction] = Cascade.classify

    def recording(self: Cascade, *args: Any, **kwargs: Any) -> Prediction:
        answer = classify(self, *args, **kwargs)
        seen.append((kwargs.get("policy") is None, answer))
        return answer

    monkeypatch.setattr(Cascade, "classify", recording)
    return seen


def _run(checkpoint: Path, corpus: Path, folder: Path, **card_fields: Any) -> dict[str, Any]:
    ckpt = _copy_with(checkpoint, folder, **card_fields)
    return evaluate.evaluate(ckpt, corpus / "test", "truth", per_class=1, progress=False)


def _by_page(corpus: Path, recorded: Recorded) -> list[tuple[int, Prediction, Prediction]]:
    """(label, full depth's answer, the cascade's answer) per page, in evaluation order."""
    pages = list_pages(corpus / "test", 1)
    full = [p for is_full, p in recorded if is_full]
    early = [p for is_full, p in recorded if not is_full]
    assert len(full) == len(early) == len(pages)
    return [(label, f, e) for (_, label), f, e in zip(pages, full, early, strict=True)]


def test_a_policy_that_never_exits_early_answers_as_full_depth(
    checkpoint: Path, corpus: Path, tmp_path: Path, recorded: Recorded
) -> None:
    """No exit can fire (tau above 1) and OCR reads whole pages: the cascade must give full
    depth's answer on every page, at the final exit, after one OCR call of its own."""
    never = {"name": "global", "tau": 1.1}
    result = _run(checkpoint, corpus, tmp_path / "never", policy=never, ocr_band=None)
    rows = _by_page(corpus, recorded)
    n = len(rows)
    for _, full, early in rows:
        assert full.exit == FINAL and full.ocr_bands == 0  # full depth was handed the words
        assert early.exit == FINAL and early.ocr_bands == 1 and not early.ocr_skipped
        assert early.label == full.label
        torch.testing.assert_close(torch.tensor(early.probs), torch.tensor(full.probs))
    # Each page OCR'd twice: once for full depth, once by the cascade itself.
    assert TruthOcr.calls == Counter({p.name: 2 for p, _ in list_pages(corpus / "test", 1)})
    early_report, full_report = result["early_exit"], result["full_depth"]
    assert early_report["exits"] == {FINAL: n}
    assert early_report["mean_exit_layer"] == LAYERS
    assert early_report["ocr_skip_rate"] == 0 and early_report["top_band_only_rate"] == 1
    assert early_report["accuracy"] == full_report["accuracy"]
    assert full_report["accuracy"] == pytest.approx(sum(lab == f.label for lab, f, _ in rows) / n)
    assert result["classes"]["early_exit"] == result["classes"]["full_depth"]
    _check_consistent(result, list(result["per_exit"]))


def test_a_policy_that_always_exits_answers_at_the_first_vision_exit_without_ocr(
    checkpoint: Path, corpus: Path, tmp_path: Path, recorded: Recorded
) -> None:
    """Every exit fires (tau 0): each page stops at emb.vision_avg, no OCR call is made for the
    cascade, and it spends less encoder time than full depth."""
    always = {"name": "global", "tau": 0.0}
    result = _run(checkpoint, corpus, tmp_path / "always", policy=always)
    rows = _by_page(corpus, recorded)
    n = len(rows)
    first = next(iter(result["per_exit"]))
    assert first == "emb.vision_avg"
    for _, full, early in rows:
        assert full.exit == FINAL
        assert early.exit == first and early.stage == "vision" and early.layer == 0
        assert early.ocr_skipped and early.ocr_bands == 0 and early.timings["ocr"] == 0
        assert [s.name for s in early.steps] == [first]  # nothing after the answering exit ran
    # OCR ran for full depth only: once a page.
    assert TruthOcr.calls == Counter({p.name: 1 for p, _ in list_pages(corpus / "test", 1)})
    early_report = result["early_exit"]
    assert early_report["exits"] == {first: n}
    assert early_report["ocr_skip_rate"] == 1 and early_report["top_band_only_rate"] == 0
    assert early_report["mean_exit_layer"] == 0 and early_report["mean_ocr_s"] == 0
    # The cascade's answers are that exit's: the same accuracy the per-exit report gives it.
    assert early_report["accuracy"] == pytest.approx(result["per_exit"][first]["accuracy"])
    assert early_report["accuracy"] == pytest.approx(sum(lab == e.label for lab, _, e in rows) / n)
    assert result["encoder_time_ratio"] < 1 and result["end_to_end_time_ratio"] < 1
    _check_consistent(result, list(result["per_exit"]))

    # The same pages filed under the class that exit answered: now every early answer is right,
    # and full depth is right exactly where it agreed with that exit (the tiny model's answers
    # hardly vary, so accuracies on the true labels alone could agree by chance).
    relabelled = tmp_path / "relabelled"
    for (png, _), (_, _, early) in zip(list_pages(corpus / "test", 1), rows, strict=True):
        folder = relabelled / CLASSES[early.label]
        folder.mkdir(parents=True, exist_ok=True)
        for source in (png, png.with_suffix(".json")):
            shutil.copy(source, folder / source.name)
    agree = sum(full.label == early.label for _, full, early in rows) / n
    recorded.clear()
    again = evaluate.evaluate(tmp_path / "always", relabelled, "truth", progress=False)
    assert again["n"] == n
    assert again["early_exit"]["accuracy"] == 1 and again["per_exit"][first]["accuracy"] == 1
    assert again["full_depth"]["accuracy"] == pytest.approx(agree)
    early_again = [answer.label for is_full, answer in recorded if not is_full]
    assert early_again == [label for _, label in list_pages(relabelled)]  # the same answers
