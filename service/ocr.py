"""OCR for the multimodal stage: the engine named in settings, an optional Redis cache keyed by
the page's pixel sha256, and client-supplied words (which skip OCR altogether).

Engines return words in reading order with pixel boxes (x0, y0, x1, y1) of the image given."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field, FiniteFloat, ValidationError

from models.data.ocr import OcrEngine, OcrUnavailableError, OcrWord, TesseractEngine
from models.runtime import Words
from service.errors import invalid

log = logging.getLogger("docexit.service.ocr")
CACHE_BACKOFF_S = 5.0  # a down cache must not add its timeouts to every request


def _axis_box(
    points: Sequence[Sequence[float]], size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A detector's quadrilateral to the axis-aligned box LayoutLMv3 takes, inside the image."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    w, h = size
    x0, y0 = min(max(0, int(min(xs))), w - 1), min(max(0, int(min(ys))), h - 1)
    return x0, y0, max(x0 + 1, min(w, int(max(xs)) + 1)), max(y0 + 1, min(h, int(max(ys)) + 1))


def _split_line(text: str, box: tuple[int, int, int, int], conf: float) -> list[OcrWord]:
    """Line detectors (PP-OCR) give text lines; the model wants words, so the line's box is
    shared out along x in proportion to each word's characters."""
    words = text.split()
    if not words:
        return []
    x0, y0, x1, y1 = box
    total = sum(len(w) for w in words) + len(words) - 1
    out, at = [], 0
    for w in words:
        a = x0 + (x1 - x0) * at / total
        b = x0 + (x1 - x0) * (at + len(w)) / total
        out.append(OcrWord(w, (int(a), y0, max(int(a) + 1, int(b)), y1), conf))
        at += len(w) + 1
    return out


def _conf(score: Any) -> float:
    return round(min(1.0, max(0.0, float(score))), 3)


class RapidOcrEngine:
    """rapidocr 3.x: PP-OCR models on onnxruntime, shipped inside the package (nothing is
    fetched). `threads` is onnxruntime's intra-op threads per call: the service OCRs one page
    per core, so one each avoids oversubscription, as for torch."""

    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrUnavailableError(
                "rapidocr is not installed "
                "(pip install --require-hashes -r requirements/rapidocr.txt)"
            ) from exc
        self._engine = RapidOCR(
            params={
                "Global.log_level": "warning",
                # Pages arrive upright (as for the paddleocr engine): no 180-degree line classifier.
                "Global.use_cls": False,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        # A PIL image: rapidocr makes it BGR itself. Any: typed as four kinds of output.
        result: Any = self._engine(image.convert("RGB"))
        if not getattr(result, "txts", None):
            return []
        words: list[OcrWord] = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            words += _split_line(str(text), _axis_box(box, image.size), _conf(score))
        return words


def _paddle_model_name(folder: str) -> str:
    """paddlex wants the model's name besides its folder, and it must match inference.yml."""
    import yaml

    config = Path(folder) / "inference.yml"
    if not config.is_file() or not (Path(folder) / "inference.onnx").is_file():
        raise OcrUnavailableError(
            f"{folder} is not a PP-OCR model folder (inference.onnx + inference.yml); build one "
            "with `python -m service.paddle_models --out DIR` or `make test-paddle`"
        )
    name = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("Global", {})
    if not name.get("model_name"):
        raise OcrUnavailableError(f"{config} names no Global.model_name")
    return str(name["model_name"])


class PaddleOcrEngine:
    """paddleocr 3.x itself on onnxruntime, with the PP-OCR model folders named by
    DOCEXIT_PADDLE_DET_DIR and DOCEXIT_PADDLE_REC_DIR (offline: nothing is downloaded;
    service.paddle_models builds them from rapidocr's files). The page-orientation, unwarping
    and text-line-orientation models stay off: they would be fetched, and pages arrive upright.
    paddlex promises no thread safety, so calls from worker threads take turns."""

    name = "paddleocr"

    def __init__(self, threads: int = 1) -> None:
        det, rec = (
            os.environ.get("DOCEXIT_PADDLE_DET_DIR"),
            os.environ.get("DOCEXIT_PADDLE_REC_DIR"),
        )
        # Read by paddlex at import: without it, a model lookup first probes the model hubs.
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        try:
            from paddleocr import PaddleOCR
        except ImportError as exc:
            raise OcrUnavailableError(
                "paddleocr is not installed "
                "(pip install --require-hashes -r requirements/paddle.txt)"
            ) from exc
        if not det or not rec:
            raise OcrUnavailableError(
                "paddleocr needs DOCEXIT_PADDLE_DET_DIR and DOCEXIT_PADDLE_REC_DIR model folders "
                "(`python -m service.paddle_models --out DIR` builds them)"
            )
        logging.getLogger("paddlex").setLevel(logging.WARNING)  # one INFO line per model
        self._lock = threading.Lock()
        self._engine = PaddleOCR(
            text_detection_model_name=_paddle_model_name(det),
            text_detection_model_dir=det,
            text_recognition_model_name=_paddle_model_name(rec),
            text_recognition_model_dir=rec,
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
            device="cpu",
            engine="onnxruntime",
            engine_config={"intra_op_num_threads": threads, "inter_op_num_threads": 1},
        )

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        # paddlex takes arrays as OpenCV does: BGR.
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        with self._lock:
            results = list(self._engine.predict(bgr))
        words: list[OcrWord] = []
        for res in results:
            for poly, text, score in zip(
                res["rec_polys"], res["rec_texts"], res["rec_scores"], strict=True
            ):
                words += _split_line(str(text), _axis_box(poly, image.size), _conf(score))
        return words


ENGINES: dict[str, type] = {
    "tesseract": TesseractEngine,
    "rapidocr": RapidOcrEngine,
    "paddleocr": PaddleOcrEngine,
}


def make_engine(name: str) -> OcrEngine:
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {sorted(ENGINES)}")
    engine: OcrEngine = ENGINES[name]()
    return engine


def image_sha256(image: Image.Image) -> str:
    """Of the decoded pixels and size, so the same page from PNG or PDF shares a cache entry."""
    h = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def _cached_words(raw: bytes) -> Words | None:
    """A cache entry back to (texts, boxes); None when it is not what this class writes (another
    version's format, a truncated value): the page is OCRed again and the entry overwritten."""
    try:
        data = json.loads(raw)
        texts, boxes = data["texts"], data["boxes"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (
        isinstance(texts, list)
        and isinstance(boxes, list)
        and len(texts) == len(boxes)
        and all(isinstance(t, str) for t in texts)
        and all(
            isinstance(b, list)
            and len(b) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
            for b in boxes
        )
    ):
        return None
    return texts, boxes


class CachedOcr:
    """An engine plus an optional Redis cache; called from worker threads, so it uses redis-py's
    blocking client with short timeouts. The cache is optional: a miss, an unreadable entry or an
    unreachable Redis means OCR is computed, never that the request fails. After a failure the
    cache is left alone for CACHE_BACKOFF_S, so a Redis outage costs one short timeout per
    backoff period rather than one per request, and is used again once Redis is back."""

    def __init__(self, engine: OcrEngine, redis_url: str | None, ttl_s: int) -> None:
        self.engine, self.ttl = engine, ttl_s
        self._skip_until = 0.0  # after a cache failure, leave Redis alone for a while
        self._down = False  # for logging the outage once, and its end
        self._redis: Any = None
        # Per worker thread: did this thread's last call come from the cache? A hit takes a
        # millisecond, and must not teach the latency model that OCR is cheap.
        self._local = threading.local()
        if redis_url and ttl_s:
            import redis
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.retry import Retry

            self._redis = redis.Redis.from_url(
                redis_url,
                socket_timeout=0.2,
                socket_connect_timeout=0.2,
                # One immediate retry on a broken connection (every pooled one is, after a
                # Redis restart), so that the first lookup after Redis returns is not taken
                # for an outage; none on timeouts, which would double a request's wait.
                retry=Retry(NoBackoff(), 1, (RedisConnectionError,)),
            )

    def _failed(self, exc: Exception) -> None:
        if not self._down:
            log.warning("OCR cache unavailable, computing OCR meanwhile: %s", exc)
        self._down = True
        self._skip_until = time.monotonic() + CACHE_BACKOFF_S

    def _worked(self) -> None:
        if self._down:
            log.info("OCR cache reachable again")
        self._down = False

    @property
    def last_call_cached(self) -> bool:
        return bool(getattr(self._local, "cached", False))

    def __call__(self, image: Image.Image) -> Words:
        self._local.cached = False
        use = self._redis is not None and time.monotonic() >= self._skip_until
        key = f"docexit:ocr:{self.engine.name}:{image_sha256(image)}" if use else ""
        if key:
            try:
                hit = self._redis.get(key)
            except Exception as exc:  # cache down: compute, and do not try to store either
                self._failed(exc)
                key = ""
            else:
                self._worked()
                words = _cached_words(hit) if hit is not None else None
                if words is not None:
                    self._local.cached = True
                    return words
                if hit is not None:
                    log.warning("unreadable OCR cache entry %s: recomputing it", key)
        found = self.engine.recognize(image)
        texts, boxes = [w.text for w in found], [list(w.box) for w in found]
        if key:
            try:
                self._redis.set(key, json.dumps({"texts": texts, "boxes": boxes}), ex=self.ttl)
            except Exception as exc:
                self._failed(exc)
        return texts, boxes


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
