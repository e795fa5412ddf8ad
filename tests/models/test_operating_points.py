"""Operating points: traces and costs follow what the cascade runs (vision layers, top-band OCR
and layers, whole-page OCR and layers)."""

from __future__ import annotations

import random

import pytest
import torch

from models.card import Latency
from models.collect import ExitOutputs
from models.operating_points import evaluate_policy
from models.plan import CascadePlan
from models.policies import GlobalThreshold, StepView
from models.traces import Trace, build_traces, trace_cost

# Two layers, band_layers 1: emb.vision_avg, vision.1, vision.2 | emb.text_avg, mm.1, mm.2
PLAN = CascadePlan.build(2, ("vision_avg", "text_avg"), (1, 2), (1, 2))
ORDER = PLAN.names
LATENCY = Latency.model_validate(
    {
        "ocr": 1.0,
        "ocr_band": 0.4,
        "stages": {
            "embed": 0.01,
            "emb.vision_avg": 0.001,
            "vision.1": 0.01,
            "vision.2": 0.01,
            "emb.text_avg": 0.005,
            "mm.1": 0.02,
            "mm.2": 0.02,
        },
    }
)


def _outputs(rng: random.Random, labels: list[int], skill: float) -> ExitOutputs:
    """Exits that get more accurate with depth; confidence tracks correctness loosely."""
    logits = {}
    for depth, name in enumerate(ORDER):
        rows = []
        for y in labels:
            right = rng.random() < min(0.85, skill + 0.1 * depth)  # full depth errs too
            cls = y if right else (y + 1) % 4
            top = min(0.99, (0.6 if right else 0.4) + rng.random() * 0.4)
            rows.append([top if i == cls else (1 - top) / 3 for i in range(4)])
        logits[name] = torch.tensor(rows).log()
    return ExitOutputs(torch.tensor(labels), logits)


def _traces(n: int = 200, bands: bool = True, seed: int = 0) -> tuple[list[Trace], list[int]]:
    traces, labels, _ = _traces_filled(n, bands, seed)
    return traces, labels


def _traces_filled(
    n: int = 200, bands: bool = True, seed: int = 0
) -> tuple[list[Trace], list[int], list[bool]]:
    rng = random.Random(seed)
    labels = [rng.randrange(4) for _ in range(n)]
    full = _outputs(rng, labels, 0.5)
    band = _outputs(rng, labels, 0.4) if bands else None
    filled = [rng.random() < 0.3 for _ in labels]
    return build_traces(full, band, filled, {}, PLAN), labels, filled


def test_traces_lay_exits_out_as_the_cascade_meets_them() -> None:
    traces, _, filled = _traces_filled()
    two_pass = next(t for t, f in zip(traces, filled, strict=True) if not f)
    assert [v.name for v in two_pass.views] == [
        *("emb.vision_avg", "vision.1", "vision.2"),
        *("emb.text_avg", "mm.1"),  # top band, up to band_layers
        *("emb.text_avg", "mm.1", "mm.2"),  # the whole page
    ]
    assert (two_pass.vision, two_pass.band) == (3, 2)
    # A band that fills the text budget meets every multimodal exit; the page is read after it.
    full_band = next(t for t, f in zip(traces, filled, strict=True) if f)
    assert [v.name for v in full_band.views][3:] == ["emb.text_avg", "mm.1", "mm.2"] * 2
    assert full_band.band == 3
    for t in traces:  # the last view is full depth's: the whole page, every layer
        assert t.full.name == "mm.2" and t.views[-1] == t.full


def test_costs_charge_each_ocr_call_where_the_cascade_makes_it() -> None:
    traces, _, filled = _traces_filled()
    t = next(t for t, f in zip(traces, filled, strict=True) if not f)
    assert trace_cost(t, 1, LATENCY) == pytest.approx((0.021, 0.0, 0.021))  # vision.1: no OCR
    enc, ocr, e2e = trace_cost(t, 4, LATENCY)  # mm.1 on the top band
    assert ocr == pytest.approx(0.4) and enc == pytest.approx(0.01 + 0.021 + 0.005 + 0.02)
    enc, ocr, e2e = trace_cost(t, 7, LATENCY)  # mm.2 on the whole page: both OCR calls
    assert ocr == pytest.approx(1.4) and e2e == pytest.approx(enc + 1.4)
    full_band = next(t for t, f in zip(traces, filled, strict=True) if f)
    assert trace_cost(full_band, 5, LATENCY)[1] == pytest.approx(0.4)  # mm.2 on the band
    assert trace_cost(full_band, 6, LATENCY)[1] == pytest.approx(1.4)
    whole = LATENCY.model_copy(update={"ocr_band": None})
    assert trace_cost(t, 7, whole)[1] == pytest.approx(1.0)


@pytest.mark.parametrize("bands", [True, False])
def test_full_depth_and_threshold_extremes(bands: bool) -> None:
    traces, labels = _traces(bands=bands)
    full = evaluate_policy(None, traces, labels, LATENCY)
    assert full.ocr_skip_rate == 0 and full.mean_exit_layer == 2
    assert full.encoder_s == pytest.approx(0.01 + 0.02 + 0.02)
    assert full.end_to_end_s == pytest.approx(full.encoder_s + 1.0)
    eager = evaluate_policy(GlobalThreshold(0.0), traces, labels, LATENCY)
    assert eager.ocr_skip_rate == 1.0 and eager.end_to_end_s < full.end_to_end_s
    never = evaluate_policy(GlobalThreshold(1.1), traces, labels, LATENCY)
    # Never exiting early answers as full depth, at the price of the band's OCR too.
    assert never.accuracy == full.accuracy
    assert never.ocr_skip_rate == 0 and never.top_band_only_rate == 0
    assert never.ocr_s == pytest.approx(1.4 if bands else 1.0)
    assert isinstance(traces[0].views[0], StepView)


def test_depth_is_the_cascade_position_and_the_bound_a_real_page_cost() -> None:
    traces, labels = _traces()
    order = list(dict.fromkeys(v.name for v in traces[0].views))
    full = evaluate_policy(None, traces, labels, LATENCY)
    assert full.mean_exit_index == order.index(traces[0].full.name)
    eager = evaluate_policy(GlobalThreshold(0.0), traces, labels, LATENCY)
    assert eager.mean_exit_index == 0 and eager.ocr_p90_s == 0  # emb.vision_avg, no OCR
    never = evaluate_policy(GlobalThreshold(1.1), traces, labels, LATENCY)
    # A text exit after OCR is deeper than any vision exit, though its layer count is 0-2.
    assert never.mean_exit_index > order.index("vision.2") >= never.mean_exit_layer
    # The quantile is the cost of some page's path, never a mix of two.
    band, page = LATENCY.ocr_band or 0.0, LATENCY.ocr
    paths = {0.0, band, band + page}
    assert never.ocr_p90_s in paths and never.ocr_p90_s >= never.ocr_s > 0
