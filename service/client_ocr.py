"""Client-supplied OCR: the `ocr` form field of /v1/classify, words a client read itself, which
skip OCR altogether."""

from __future__ import annotations

from pydantic import BaseModel, Field, FiniteFloat, ValidationError

from models.runtime import Words
from service.errors import invalid


class ClientWord(BaseModel):
    text: str = Field(max_length=200)
    # Finite: an infinite or NaN coordinate places the word nowhere on the page.
    box: tuple[FiniteFloat, FiniteFloat, FiniteFloat, FiniteFloat] = Field(
        description="x0, y0, x1, y1"
    )


class ClientOcr(BaseModel):
    """Words a client read itself, in reading order. Boxes are pixels of `size` (width, height),
    by default the decoded page (for a PDF: the page rendered at 1000 px on its long side)."""

    words: list[ClientWord]
    size: tuple[int, int] | None = None


def parse_client_ocr(raw: str, image_size: tuple[int, int], max_words: int) -> Words:
    """The `ocr` form field to (texts, boxes) in the decoded image's pixels; 422 when invalid."""
    try:
        ocr = ClientOcr.model_validate_json(raw)
    except ValidationError as exc:
        errors = [
            {"loc": ["ocr", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise invalid("the `ocr` field is not valid words+boxes JSON", errors) from exc
    if len(ocr.words) > max_words:
        raise invalid(f"the `ocr` field has {len(ocr.words)} words; the limit is {max_words}")
    w, h = image_size
    sx, sy = 1.0, 1.0
    if ocr.size is not None:
        if min(ocr.size) <= 0:
            raise invalid("the `ocr` size must be positive")
        sx, sy = w / ocr.size[0], h / ocr.size[1]
    texts, boxes = [], []
    for word in ocr.words:
        x0, y0, x1, y1 = word.box
        if not (x0 <= x1 and y0 <= y1):
            raise invalid(f"the box of {word.text!r} is not x0 <= x1, y0 <= y1: {word.box}")
        texts.append(word.text)
        boxes.append([x0 * sx, y0 * sy, x1 * sx, y1 * sy])
    return texts, boxes
