"""Operating points: traces and costs follow what the cascade runs (vision layers, top-band OCR
and layers, rest-of-page OCR and layers)."""

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
        "ocr_rest": 0.7,
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
            right = rng.random() < skill + 0.1 * depth
            cls = y if right else (y + 1) % 4
            top = min(0.99, (0.6 if right else 0.4) + rng.random() * 0.4)
            rows.append([top if i == cls else (1 - top) / 3 for i in range(4)])
        logits[name] = torch.tensor(rows).log()
    return ExitOutputs(torch.tensor(labels), logits)


def _traces(n: int = 200, bands: bool = True, seed: int = 0) -> tuple[list[Trace], list[int]]:
    rng = random.Random(seed)
    labels = [rng.randrange(4) for _ in range(n)]
    full = _outputs(rng, labels, 0.5)
    band = _outputs(rng, labels, 0.4) if bands else None
    filled = [rng.random() < 0.3 for _ in labels]
    return build_traces(full, band, filled, {}, PLAN), labels


def test_traces_lay_exits_out_as_the_cascade_meets_them() -> None:
    traces, _ = _traces()
    two_pass = next(t for t in traces if not t.filled)
    assert [v.name for v in two_pass.views] == [
        *("emb.vision_avg", "vision.1", "vision.2"),
        *("emb.text_avg", "mm.1"),  # top band, up to band_layers
        *("emb.text_avg", "mm.1", "mm.2"),  # the whole page
    ]
    assert (two_pass.vision, two_pass.band) == (3, 2)
    one_pass = next(t for t in traces if t.filled)
    assert [v.name for v in one_pass.views][3:] == ["emb.text_avg", "mm.1", "mm.2"]
    assert one_pass.full.name == "mm.2" and one_pass.band == 0


def test_costs_charge_each_ocr_call_where_the_cascade_makes_it() -> None:
    traces, _ = _traces()
    t = next(t for t in traces if not t.filled)
    assert trace_cost(t, 1, LATENCY) == pytest.approx((0.021, 0.0, 0.021))  # vision.1: no OCR
    enc, ocr, e2e = trace_cost(t, 4, LATENCY)  # mm.1 on the top band
    assert ocr == pytest.approx(0.4) and enc == pytest.approx(0.01 + 0.021 + 0.005 + 0.02)
    enc, ocr, e2e = trace_cost(t, 7, LATENCY)  # mm.2 on the whole page: both OCR calls
    assert ocr == pytest.approx(1.1) and e2e == pytest.approx(enc + 1.1)
    filled = next(t for t in traces if t.filled)
    assert trace_cost(filled, 5, LATENCY)[1] == pytest.approx(0.4)
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
    # Pages whose top band filled the text budget end on the band's words, the rest as full depth.
    ends = [(t.views[-1] if t.filled else t.full).prediction for t in traces]
    assert never.accuracy == sum(e == y for e, y in zip(ends, labels, strict=True)) / len(labels)
    assert never.ocr_skip_rate == 0
    # Never exiting reads the whole page: two OCR calls unless the band filled the budget.
    assert never.top_band_only_rate == pytest.approx(
        sum(t.filled for t in traces) / len(traces) if bands else 0.0
    )
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
    band, rest = LATENCY.ocr_band or 0.0, LATENCY.ocr_rest or 0.0
    paths = {0.0, band, band + rest}
    assert never.ocr_p90_s in paths and never.ocr_p90_s >= never.ocr_s > 0
