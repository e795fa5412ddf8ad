"""The bench's arithmetic, and the baseline's fairness: its one-pass transformers forward gives
the final classifier's answer that the service's full depth gives."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PIL import Image

from loadtests.client import Sample
from loadtests.pages import BenchPage
from loadtests.phases import Plan, budget_grid, pick_policies, rotate
from loadtests.stats import paired, summary
from tests.loadtests.conftest import needs_checkpoint


def sample(variant: str, page: str, label: str, truth: str = "letter", **kw: object) -> Sample:
    s = Sample(variant, page, truth, "clean", 0.0, 1.0, 200, label=label, exit_layer=2)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_budget_grid_runs_from_the_smallest_useful_budget_to_full_depth() -> None:
    grid = budget_grid(80, 2500.0, 6)
    assert grid[0] == 80 and grid == sorted(grid) and len(grid) == 6
    assert abs(grid[-1] - 2500) <= 10 and all(b % 10 == 0 for b in grid)
    assert budget_grid(80, math.nan, 4)[0] == 80  # no full-depth time measured: still a grid


def test_plan_gives_each_phase_its_share_of_what_is_left() -> None:
    plan = Plan(100.0, {"x": 1.0, "y": 3.0})
    assert 24 < plan.seconds("x") <= 25.01
    assert 99 < plan.seconds("y") <= 100.01  # the last phase gets all that is left


def test_rotate_interleaves() -> None:
    assert [rotate("abc", i) for i in range(3)] == [list("abc"), list("bca"), list("cab")]


def test_paired_counts_pages_every_variant_answered() -> None:
    samples = [
        sample("a", "p1", "letter"),
        sample("b", "p1", "letter"),
        sample("a", "p2", "memo"),
        sample("b", "p2", "letter"),
        sample("a", "p3", "letter"),  # b never answered p3: left out
        Sample("b", "p3", "letter", "clean", 0.0, 0.1, 503),
    ]
    p = paired(samples, ("a", "b"))
    assert p["pages"] == 2 and p["accuracy_a"] == 0.5 and p["accuracy_b"] == 1.0
    assert p["a_wrong_b_right"] == 1 and p["a_right_b_wrong"] == 0
    s = summary([x for x in samples if x.variant == "b"])
    assert s["answered"] == 2 and s["status"] == {"200": 2, "503": 1}


@needs_checkpoint
def test_pick_policies_spreads_each_family() -> None:
    from loadtests.servers import CHECKPOINT

    card = json.loads((CHECKPOINT / "card.json").read_text())
    points = pick_policies(card, 3)
    families = {p["policy"]["name"] for p in points.values()}
    assert "full_depth" not in families and families
    assert all(sum(p["policy"]["name"] == f for p in points.values()) <= 3 for f in families)


@needs_checkpoint
def test_baseline_is_the_final_classifier_of_full_depth(pages: list[BenchPage]) -> None:
    import torch

    from loadtests.baseline_app import PlainModel
    from loadtests.servers import CHECKPOINT
    from models.checkpoint import load_checkpoint
    from models.runtime import Cascade

    model, card = load_checkpoint(CHECKPOINT)
    plain, cascade = PlainModel(model, card), Cascade.from_card(model, card)
    for page in pages:
        words = json.loads(page.truth_ocr)["words"]
        texts, boxes = [w["text"] for w in words], [w["box"] for w in words]
        image = Image.open(Path(page.path)).convert("L")
        ours = plain.probs(image, texts, boxes)
        full = cascade.classify(image, words=(texts, boxes), policy=None)
        assert full.exit == model.config.final_exit
        assert torch.allclose(torch.tensor(ours), torch.tensor(full.probs), atol=1e-5)


def test_sign_test_is_exact_and_two_sided() -> None:
    from loadtests.stats import sign_test

    assert sign_test(4, 1) == sign_test(1, 4) == 0.375  # 2 * (1 + 5) / 32
    assert sign_test(0, 0) == 1.0 and sign_test(3, 3) == 1.0
    assert sign_test(10, 0) == 2 / 1024
