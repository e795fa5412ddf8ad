"""Page inputs (tokens aligned to boxes) and the real per-page cascade."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from models.inputs import encode_words, image_tensor, pad_text, tokenizer
from models.multiexit import MultiExitLayoutLMv3
from models.policies import GlobalThreshold, PerExitThresholds
from models.runtime import Cascade, Words


def test_subword_tokens_take_their_words_box() -> None:
    words = ["Unbelievably", "cheap", "invoice"]
    boxes = [(0, 0, 100, 10), (110, 0, 160, 10), (0, 50, 200, 500)]
    text = encode_words(words, boxes, (200, 1000), max_tokens=32)
    tok = tokenizer()
    ids = text.input_ids.tolist()
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert text.bbox[0].tolist() == [0, 0, 0, 0] and text.bbox[-1].tolist() == [1000] * 4
    word_ids = tok(words, is_split_into_words=True).word_ids()
    assert word_ids.count(0) > 1  # "Unbelievably" splits into several pieces
    grid = [[0, 0, 500, 10], [550, 0, 800, 10], [0, 50, 1000, 500]]  # the page's 0-1000 grid
    for t, w in enumerate(word_ids):
        if w is not None:
            assert text.bbox[t].tolist() == grid[w]


def test_truncation_and_padding() -> None:
    text = encode_words(["word"] * 100, [(0, 0, 1, 1)] * 100, (10, 10), max_tokens=16)
    assert len(text.input_ids) == 16
    short = encode_words([], [], (10, 10), max_tokens=16)
    ids, bbox, mask = pad_text([text, short])
    assert (
        ids.shape == (2, 16) and bbox.shape == (2, 16, 4) and mask[1].sum() == len(short.input_ids)
    )


def test_image_tensor_puts_paper_at_zero_and_ink_at_one() -> None:
    page = Image.new("L", (700, 1000), 255)
    page.paste(0, (0, 0, 350, 1000))  # left half black
    x = image_tensor(page, 224)
    assert x.shape == (3, 224, 224)
    assert torch.allclose(x[:, :, :100], torch.ones(3, 224, 100))
    assert torch.allclose(x[:, :, 124:], torch.zeros(3, 224, 100))
    signed = image_tensor(page, 224, "signed")
    assert signed[0, 0, 0] == -1.0 and signed[0, 0, -1] == 1.0
    with pytest.raises(ValueError, match="pixels"):
        image_tensor(page, 224, "rgb")


class CountingOcr:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image: Image.Image) -> Words:
        self.calls += 1
        return ["Total", "due"], [(10, 10, 60, 20), (70, 10, 100, 20)]


def _page() -> Image.Image:
    return Image.new("L", (64, 80), 200)


def ink_box(x: torch.Tensor) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the pixels more than half inked in one channel of image_tensor."""
    ys, xs = (x > 0.5).nonzero(as_tuple=True)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize("size", [(1000, 500), (400, 1000)])
def test_letterboxed_pages_keep_their_shape_in_both_streams(size: tuple[int, int]) -> None:
    """A landscape slide and a tall receipt stay that shape: paper fills the rest of the
    square, and a word's grid box covers exactly where its ink lands in the image."""
    page = Image.new("L", size, 255)
    word = (size[0] // 4, size[1] // 2, size[0] // 4 + 200, size[1] // 2 + 80)  # 2.5 : 1
    page.paste(0, word)
    letterboxed = ink_box(image_tensor(page, 200, "ink", fit="letterbox")[0])
    grid = encode_words(["x"], [word], size, 8, "letterbox").bbox[1].tolist()  # after [CLS]
    assert all(abs(i - g / 5) <= 1 for i, g in zip(letterboxed, grid, strict=True))
    x0, y0, x1, y1 = letterboxed
    assert abs((x1 - x0) / (y1 - y0) - 2.5) < 0.2
    x0, y0, x1, y1 = ink_box(image_tensor(page, 200, "ink", fit="squash")[0])
    assert abs((x1 - x0) / (y1 - y0) - 2.5) > 0.5  # squashing bends the word out of shape


def test_a_squashed_page_fills_the_square_as_before() -> None:
    page = Image.new("L", (500, 1000), 0)
    assert image_tensor(page, 32, "ink", fit="squash").min() == 1.0  # no paper border
    assert image_tensor(page, 32, "ink", fit="letterbox").min() == 0.0  # paper either side
    with pytest.raises(ValueError, match="fit"):
        image_tensor(page, 32, "ink", fit="crop")


def test_full_depth_runs_no_vision_layer_and_reads_the_page(model: MultiExitLayoutLMv3) -> None:
    ocr = CountingOcr()
    pred = Cascade(model).classify(_page(), ocr=ocr)
    assert ocr.calls == 1 and not pred.ocr_skipped
    assert pred.exit == "mm.3" and pred.layer == 3 and pred.stage == "multimodal"
    assert [s.name for s in pred.steps] == ["emb.text_avg", "emb.concat", "mm.1", "mm.2", "mm.3"]
    assert pytest.approx(sum(pred.probs), abs=1e-5) == 1.0


def test_a_confident_vision_exit_skips_ocr(model: MultiExitLayoutLMv3) -> None:
    ocr = CountingOcr()
    pred = Cascade(model).classify(_page(), ocr=ocr, policy=GlobalThreshold(0.0))
    assert ocr.calls == 0 and pred.ocr_skipped and pred.exit == "emb.vision_avg"
    assert pred.timings["ocr"] == 0.0 and pred.ocr_bands == 0 and pred.timings["total"] > 0


def test_a_policy_that_never_fires_ends_at_the_final_exit(model: MultiExitLayoutLMv3) -> None:
    ocr = CountingOcr()
    pred = Cascade(model, {"mm.3": 2.0}).classify(_page(), ocr=ocr, policy=GlobalThreshold(0.999))
    # Vision exits, then the top band's words up to band_layers, then the whole page.
    assert ocr.calls == 2 and pred.ocr_bands == 2 and pred.exit == "mm.3"
    assert [s.name for s in pred.steps] == [
        "emb.vision_avg",
        "vision.1",
        "vision.2",
        "vision.3",
        "emb.text_avg",
        "emb.concat",
        "mm.1",
        "emb.text_avg",
        "emb.concat",
        "mm.1",
        "mm.2",
        "mm.3",
    ]


class CropRecordingOcr:
    """Says it read `n` words on every call, and records the crops it was given."""

    def __init__(self, n: int) -> None:
        self.n, self.crops = n, []

    def __call__(self, image: Image.Image) -> Words:
        self.crops.append(image.size)
        return [f"word{i}" for i in range(self.n)], [(1, 1, 5, 4)] * self.n


def test_a_top_band_that_fills_the_text_budget_meets_every_exit_before_the_page(
    model: MultiExitLayoutLMv3,
) -> None:
    ocr = CropRecordingOcr(40)  # 40 words, far more than max_text_tokens = 16
    pred = Cascade(model).classify(_page(), ocr=ocr, policy=GlobalThreshold(0.999))
    text = ["emb.text_avg", "emb.concat", "mm.1", "mm.2", "mm.3"]
    assert [s.name for s in pred.steps][4:] == text + text  # the band's words, then the page's
    assert pred.ocr_bands == 2 and ocr.crops[1] == (64, 80)
    width, height = ocr.crops[0]
    assert width == 64 and 0 < height < 80  # the top band, not the page
    early = Cascade(model).classify(_page(), ocr=ocr, policy=PerExitThresholds({"mm.3": 0.0}))
    assert early.ocr_bands == 1 and early.exit == "mm.3"  # answered on the band's words


def test_an_undecided_page_is_read_whole_after_its_band(model: MultiExitLayoutLMv3) -> None:
    ocr = CropRecordingOcr(2)
    pred = Cascade(model).classify(_page(), ocr=ocr, policy=GlobalThreshold(0.999))
    (w1, h1), (w2, h2) = ocr.crops
    assert pred.ocr_bands == 2 and w1 == w2 == 64 and h1 < h2 == 80
    # Its last pass reads what full depth reads: the same words, the same answer.
    full = Cascade(model).classify(_page(), ocr=ocr)
    assert (pred.exit, pred.probs) == (full.exit, full.probs)


def test_bands_off_or_words_given_mean_one_or_no_ocr(model: MultiExitLayoutLMv3) -> None:
    ocr = CropRecordingOcr(2)
    pred = Cascade(model, band=None).classify(_page(), ocr=ocr, policy=GlobalThreshold(0.999))
    assert ocr.crops == [(64, 80)] and pred.ocr_bands == 1
    given = (["Invoice"], [(2, 2, 30, 9)])
    pred = Cascade(model).classify(_page(), ocr=ocr, words=given, policy=GlobalThreshold(0.999))
    assert len(ocr.crops) == 1 and pred.ocr_bands == 0 and pred.exit == "mm.3"


def test_temperature_softens_the_answer(model: MultiExitLayoutLMv3) -> None:
    hot = Cascade(model, {"mm.3": 5.0}).classify(_page(), ocr=CountingOcr())
    cold = Cascade(model).classify(_page(), ocr=CountingOcr())
    assert max(hot.probs) < max(cold.probs) and hot.label == cold.label


def test_text_is_required_past_the_vision_stage(model: MultiExitLayoutLMv3) -> None:
    with pytest.raises(ValueError, match="needs text"):
        Cascade(model).classify(_page())


def test_a_refused_stage_stops_the_cascade_with_the_most_confident_exit(
    model: MultiExitLayoutLMv3,
) -> None:
    ocr = CropRecordingOcr(2)
    asked: list[str] = []

    def before_ocr(stage: str) -> bool:
        asked.append(stage)
        return not stage.startswith("ocr")

    pred = Cascade(model).classify(
        _page(), ocr=ocr, policy=GlobalThreshold(0.999), can_run=before_ocr
    )
    assert pred.deadline_hit and pred.ocr_skipped and ocr.crops == []
    assert asked == ["vision.1", "vision.2", "vision.3", "ocr.band"]  # the first exit always runs
    assert pred.exit == max(pred.steps, key=lambda s: s.confidence).name
    assert [s.name for s in pred.steps] == ["emb.vision_avg", "vision.1", "vision.2", "vision.3"]


def test_stage_timings_reach_the_caller_and_full_depth_ignores_deadlines(
    model: MultiExitLayoutLMv3,
) -> None:
    seen: list[tuple[str, float]] = []
    pred = Cascade(model).classify(
        _page(),
        ocr=CropRecordingOcr(2),
        policy=GlobalThreshold(0.999),
        can_run=lambda stage: stage != "mm.2",
        on_stage=lambda stage, s: seen.append((stage, s)),
    )
    names = [n for n, _ in seen]
    assert pred.deadline_hit and pred.ocr_bands == 2 and "mm.2" not in names
    assert names[:3] == ["embed", "emb.vision_avg", "vision.1"]
    assert names.index("ocr.band") < names.index("ocr")  # the band, then the whole page
    assert all(s >= 0 for _, s in seen)
    full = Cascade(model).classify(_page(), ocr=CropRecordingOcr(2), can_run=lambda s: False)
    assert not full.deadline_hit and full.exit == "mm.3"


def test_vision_layers_that_lead_to_no_possible_exit_are_not_run(
    model: MultiExitLayoutLMv3,
) -> None:
    only_first = PerExitThresholds({"vision.1": 0.999, "mm.1": 0.999})
    pred = Cascade(model).classify(_page(), ocr=CropRecordingOcr(2), policy=only_first)
    names = [s.name for s in pred.steps]
    assert names[:2] == ["emb.vision_avg", "vision.1"] and "vision.2" not in names
    pred = Cascade(model).classify(_page(), ocr=CropRecordingOcr(2), policy=GlobalThreshold(1.1))
    assert not any(s.stage == "vision" for s in pred.steps) and not pred.ocr_skipped
