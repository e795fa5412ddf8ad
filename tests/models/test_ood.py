"""OOD scores at the answering exit (models.ood): the numbers, the threshold, and that the live
cascade and the offline traces hand the scores the same logits."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import torch
from PIL import Image

from models import ood_fit
from models.collect import ExitOutputs, collect
from models.data.labels import CLASSES
from models.dataset import model_pages
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.ood import SCORES, Abstainer, abstained, auroc, score, threshold_at
from models.ood_features import FeatureStats
from models.policies import GlobalThreshold, StepView
from models.runtime import Cascade, Words
from models.traces import build_traces


def view(logits: list[float], temperature: float = 1.0, name: str = "mm.3") -> StepView:
    probs = torch.softmax(torch.tensor(logits) / temperature, -1).tolist()
    return StepView(name, tuple(probs), "multimodal", logits=tuple(logits))


def test_energy_is_the_tempered_logsumexp_and_grows_with_the_logits() -> None:
    z = [2.0, -1.0, 0.5, 3.0]
    for t in (0.5, 1.0, 1.7):
        want = t * float(torch.logsumexp(torch.tensor(z) / t, -1))
        assert score("energy", view(z, t), {"mm.3": t}) == pytest.approx(want, rel=1e-6)
    # The same softmax from larger logits: the same confidence, a higher energy.
    low, high = view(z), view([2 * x for x in z])
    assert score("energy", high, {}) > score("energy", low, {})
    assert score("max_logit", high, {}) == pytest.approx(6.0)


def test_msp_is_the_calibrated_confidence_and_entropy_prefers_peaked_answers() -> None:
    peaked, flat = view([5.0, 0.0, 0.0], 1.3), view([0.1, 0.0, 0.05], 1.3)
    assert score("msp", peaked, {"mm.3": 1.3}) == pytest.approx(peaked.confidence)
    assert score("neg_entropy", peaked, {}) > score("neg_entropy", flat, {})
    assert score("neg_entropy", flat, {}) == pytest.approx(-math.log(3), abs=0.01)


def test_a_score_that_needs_logits_says_so() -> None:
    bare = StepView("mm.3", (0.7, 0.3), "multimodal")
    assert score("msp", bare, {}) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="no logits"):
        score("energy", bare, {})
    with pytest.raises(ValueError, match="unknown OOD score"):
        score("nope", bare, {})
    with pytest.raises(ValueError, match="feature statistics"):
        score("mahalanobis", bare, {})


def brute_auroc(inside: list[float], outside: list[float]) -> float:
    pairs = [(a > b) + 0.5 * (a == b) for a in inside for b in outside]
    return sum(pairs) / len(pairs)


def test_auroc_is_the_pairwise_ordering_with_half_ties() -> None:
    assert auroc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert auroc([1.0, 2.0], [3.0, 4.0]) == 0.0
    assert auroc([1.0, 1.0], [1.0]) == 0.5
    rng = random.Random(7)
    for _ in range(20):
        a = [round(rng.gauss(0.5, 1), 1) for _ in range(rng.randint(1, 30))]
        b = [round(rng.gauss(0, 1), 1) for _ in range(rng.randint(1, 30))]
        assert auroc(a, b) == pytest.approx(brute_auroc(a, b))
    with pytest.raises(ValueError):
        auroc([], [1.0])


@pytest.mark.parametrize("share", [0.0, 0.02, 0.05, 0.2])
def test_the_threshold_abstains_on_at_most_the_share_it_is_set_for(share: float) -> None:
    rng = random.Random(3)
    inside = [rng.random() for _ in range(200)] + [0.5] * 20  # ties too
    t = threshold_at(inside, share)
    assert abstained(inside, t) <= share
    # The highest such threshold: any higher one abstains on more than the share.
    above = min(x for x in inside if x > t)
    assert abstained(inside, above) > share


def test_the_abstainer_calls_low_scores_out_of_distribution() -> None:
    a = Abstainer("energy", 2.0, {"mm.3": 1.0})
    assert a.in_distribution(view([4.0, 0.0]))
    assert not a.in_distribution(view([0.1, 0.0]))
    with pytest.raises(ValueError):
        Abstainer("nope", 0.0, {})
    with pytest.raises(ValueError):
        Abstainer("msp", math.nan, {})


class Ocr:
    def __call__(self, image: Image.Image) -> Words:
        return ["Total", "due"], [(10, 10, 60, 20), (70, 10, 100, 20)]


def test_the_live_answer_carries_its_exits_raw_logits(model: MultiExitLayoutLMv3) -> None:
    """Scores from the live cascade's answer are scores of the model's own outputs at that
    exit: the logits before the temperature, and the calibrated probabilities."""
    page = Image.new("L", (64, 80), 200)
    temps = {"mm.3": 1.7}
    pred = Cascade(model, temps, band=None).classify(page, ocr=Ocr(), policy=GlobalThreshold(2.0))
    assert pred.exit == "mm.3"
    c = model.config
    text = encode_words(*Ocr()(page), page.size, c.max_text_tokens, c.page_fit)
    with torch.inference_mode():
        out = model(
            image_tensor(page, c.image_size, c.pixels, c.page_fit)[None],
            text.input_ids[None],
            text.bbox[None],
            text.attention_mask[None],
        )
    z = out.steps["mm.3"].logits[0]
    assert pred.answer.logits == pytest.approx(z.tolist(), abs=1e-5)
    want = 1.7 * float(torch.logsumexp(z / 1.7, -1))
    assert score("energy", pred.answer, temps) == pytest.approx(want, abs=1e-4)
    assert score("msp", pred.answer, temps) == pytest.approx(max(pred.probs))


def test_trace_views_carry_the_collected_logits(model: MultiExitLayoutLMv3) -> None:
    g = torch.Generator().manual_seed(1)
    names = model.config.exit_names()
    outputs = ExitOutputs(
        torch.tensor([0, 1]),
        {n: torch.randn(2, model.config.num_labels, generator=g) for n in names},
    )
    traces = build_traces(outputs, None, [False, False], {}, model.config.plan)
    for i, trace in enumerate(traces):
        for v in trace.views:
            assert v.logits == pytest.approx(outputs.logits[v.name][i].tolist())
            for kind in SCORES:
                assert math.isfinite(score(kind, v, {}))


def test_feature_distance_is_small_for_training_like_states_and_large_off_them(
    tmp_path: Path,
) -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 12, generator=g) * 4
    labels = torch.arange(3).repeat_interleave(200)
    # Training states vary in the first six directions only.
    spread = torch.zeros(600, 12)
    spread[:, :6] = torch.randn(600, 6, generator=g)
    stats = FeatureStats.fit({"mm.3": centres[labels] + spread}, labels, rank=6)
    near = centres[1] + 0.5 * torch.randn(12, generator=g) * (torch.arange(12) < 6)
    off_axis = centres[1] + 3.0 * (torch.arange(12) == 9)  # a direction training never used
    far = centres.mean(0) + 20.0
    d = stats.distance("mm.3", torch.stack([near, off_axis, far]))
    assert d[0] < d[1] and d[0] < d[2]
    sha = stats.save(tmp_path / "s.safetensors")
    again = FeatureStats.load(tmp_path / "s.safetensors", sha)
    assert torch.allclose(again.distance("mm.3", torch.stack([near, far])), d[[0, 2]])
    with pytest.raises(ValueError, match="SHA-256"):
        FeatureStats.load(tmp_path / "s.safetensors", "0" * 64)
    # As a score of an answering exit: minus the distance, and the abstainer uses it.
    v = StepView("mm.3", (1.0,), "multimodal", logits=(0.0,), features=tuple(near.tolist()))
    assert score("mahalanobis", v, {}, stats) == pytest.approx(-float(d[0]), rel=1e-5)
    assert Abstainer("mahalanobis", -float(d[0]) - 1, {}, stats).in_distribution(v)
    with pytest.raises(ValueError, match="feature statistics"):
        Abstainer("mahalanobis", 0.0, {})
    # Along the path: each exit's distance over its fit pages' median, averaged.
    w = StepView("mm.3", (1.0,), "multimodal", logits=(0.0,), features=tuple(far.tolist()))
    relative = stats.distance("mm.3", torch.stack([near, far]), relative=True)
    assert relative[0] < 3 < relative[1]  # the median training page is at 1
    path = score("mahalanobis_path", w, {}, stats, [v, w])
    assert path == pytest.approx(-float(relative.mean()), rel=1e-5)


def test_the_contrast_score_pushes_out_pages_nearer_the_negatives_than_any_class(
    tmp_path: Path,
) -> None:
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(3, 12, generator=g) * 4
    labels = torch.arange(3).repeat_interleave(200)
    states = centres[labels] + torch.randn(600, 12, generator=g)
    code = centres[0] + 6.0  # out-of-scope training pages lie between the classes
    negatives = code + 0.3 * torch.randn(40, 12, generator=g)
    stats = FeatureStats.fit({"mm.3": states}, labels, rank=6, negatives={"mm.3": negatives})
    assert stats.has_negatives

    def view(x: torch.Tensor) -> StepView:
        return StepView("mm.3", (1.0,), "multimodal", logits=(0.0,), features=tuple(x.tolist()))

    in_class = view(centres[2] + 0.2 * torch.randn(12, generator=g))
    like_code = view(code + 0.3 * torch.randn(12, generator=g))
    far = view(-30.0 * torch.ones(12))  # far from the classes and the negatives alike
    path, contrast = ("mahalanobis_path", "mahalanobis_contrast")
    for v in (in_class, far):  # nearer a class than the negatives: scored as the path score
        assert score(contrast, v, {}, stats, [v]) == pytest.approx(score(path, v, {}, stats, [v]))
    inside = -score(path, like_code, {}, stats, [like_code])
    outside = float(stats.negative_distance("mm.3", torch.tensor([like_code.features]))[0])
    assert outside < inside  # nearer the negatives: pushed out by the difference
    want = -(2 * inside - outside)
    assert score(contrast, like_code, {}, stats, [like_code]) == pytest.approx(want, rel=1e-5)
    # Saved and loaded with the statistics; without negatives the score is refused.
    again = FeatureStats.load(tmp_path / "s.safetensors", stats.save(tmp_path / "s.safetensors"))
    assert score(contrast, like_code, {}, again, [like_code]) == pytest.approx(want, rel=1e-5)
    plain = FeatureStats.fit({"mm.3": states}, labels, rank=6)
    with pytest.raises(ValueError, match="fit with negatives"):
        Abstainer(contrast, 0.0, {}, plain)
    with pytest.raises(ValueError, match="without negatives"):
        score(contrast, like_code, {}, plain, [like_code])


def test_live_and_traced_views_carry_the_pooled_state(model: MultiExitLayoutLMv3) -> None:
    page = Image.new("L", (64, 80), 200)
    pred = Cascade(model, band=None).classify(page, ocr=Ocr(), policy=GlobalThreshold(2.0))
    assert all(v.features is not None for v in pred.steps)
    assert len(pred.answer.features or ()) == model.config.hidden_size


def test_feature_statistics_fit_each_folder_up_to_its_own_page_cap(
    corpus: Path, model: MultiExitLayoutLMv3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tesseract is not what this checks: record the OCR asked for, read the pages' own words.
    asked: list[list[str]] = []
    monkeypatch.setattr(ood_fit.ocr_cli, "main", asked.append)
    folders, caps = [corpus / "train", corpus / "val"], [2, 1]
    stats = ood_fit.fit_features(model, folders, caps, workers=1)
    assert asked == [
        ["--data", str(f), "--workers", "1", "--per-class", str(c)]
        for f, c in zip(folders, caps, strict=True)
    ]
    # The same statistics as a fit on exactly those pages: 2 a class from train, 1 from val.
    parts = [
        collect(
            model,
            model_pages(f, model.config, ocr_mix=1.0, per_class=c),
            progress=False,
            features=True,
        )
        for f, c in zip(folders, caps, strict=True)
    ]
    assert [len(p.labels) for p in parts] == [2 * len(CLASSES), len(CLASSES)]
    want = FeatureStats.fit(
        {n: torch.cat([p.features[n] for p in parts]) for n in parts[0].features},
        torch.cat([p.labels for p in parts]),
    )
    for name, g in want.exits.items():
        assert torch.allclose(stats.exits[name].means, g.means, atol=1e-5)
        assert torch.allclose(stats.exits[name].scale, g.scale, rtol=1e-4)
    with pytest.raises(ValueError, match="2 page caps for 1 fit folders"):
        ood_fit.fit_features(model, folders[:1], caps, workers=1)


def test_negatives_are_read_from_a_flat_folder_and_kept_as_their_mean(
    corpus: Path, model: MultiExitLayoutLMv3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[list[str]] = []
    monkeypatch.setattr(ood_fit.ocr_cli, "main", asked.append)
    negatives = tmp_path / "negatives"  # <kind>/<id>.png, as make ood-negatives writes them
    for png in sorted((corpus / "test").glob("*/*.png"))[:5]:
        (negatives / "code").mkdir(parents=True, exist_ok=True)
        for f in png.parent.glob(f"{png.stem}.*"):
            (negatives / "code" / f.name).write_bytes(f.read_bytes())
    stats = ood_fit.fit_features(
        model, [corpus / "val"], [1], workers=1, negatives=negatives, work=tmp_path / "work"
    )
    assert ["--data", str(negatives), "--workers", "1"] in asked  # its OCR, where it lacks it
    view = tmp_path / "work" / "views" / "negatives"
    pages = model_pages(view, model.config, ocr_mix=1.0)
    assert len(pages) == 5
    out = collect(model, pages, progress=False, features=True)
    assert stats.has_negatives
    for name, g in stats.exits.items():
        assert g.negatives is not None
        assert torch.allclose(g.negatives[0], out.features[name].mean(0), atol=1e-5)
