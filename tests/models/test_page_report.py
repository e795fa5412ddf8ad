"""Per-class accuracy, macro accuracy and confusion matrices of a set of answers."""

from __future__ import annotations

from models.data.labels import CLASS_TO_ID
from models.page_report import answer_ece, class_report, markdown

MEMO, EMAIL, LETTER = CLASS_TO_ID["memo"], CLASS_TO_ID["email"], CLASS_TO_ID["letter"]


def test_per_class_macro_and_confusion() -> None:
    truth = [MEMO] * 4 + [EMAIL] * 2
    answers = [MEMO, MEMO, MEMO, LETTER, EMAIL, MEMO]
    report = class_report(truth, answers)
    assert report["accuracy"] == 4 / 6
    assert report["per_class"] == {"email": 0.5, "memo": 0.75}
    assert report["macro_accuracy"] == (0.5 + 0.75) / 2  # small classes count as much
    assert report["pages_per_class"] == {"email": 2, "memo": 4}
    assert report["confusion"] == {
        "email": {"email": 1, "memo": 1},
        "memo": {"letter": 1, "memo": 3},
    }
    table = markdown(report, report)
    assert "| memo | 4 | 75% | 75% |" in table
    assert "| email |  | **1** | 1 |" in table  # columns in CLASSES order: lett, emai, memo


def test_answer_ece_is_zero_for_honest_confidences_and_large_for_overconfident_ones() -> None:
    truth = [MEMO, MEMO, EMAIL, EMAIL]
    half = [[0.0] * 16 for _ in truth]
    for row in half:
        row[MEMO] = row[EMAIL] = 0.5  # right half of the time: honest at 0.5
    assert answer_ece(half, truth) < 1e-6
    sure_and_wrong = [[0.0] * 16 for _ in truth]
    for row in sure_and_wrong:
        row[LETTER] = 1.0
    assert answer_ece(sure_and_wrong, truth) > 0.99
