"""The OCR engines the service can run besides Tesseract (models.ocr.TesseractEngine):
rapidocr and paddleocr, both PP-OCR line detectors on onnxruntime, and make_engine for the one
named in settings. Engines return words in reading order with pixel boxes (x0, y0, x1, y1) of
the image given."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.ocr import OcrEngine, OcrUnavailableError, OcrWord, TesseractEngine


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

            self.version = metadata.version("rapidocr")
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
            "with `python -m tools.paddle_models --out DIR` or `make test-paddle`"
        )
    name = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("Global", {})
    if not name.get("model_name"):
        raise OcrUnavailableError(f"{config} names no Global.model_name")
    return str(name["model_name"])


class PaddleOcrEngine:
    """paddleocr 3.x itself on onnxruntime, with the PP-OCR model folders `det_dir` and `rec_dir`
    (Settings: DOCEXIT_PADDLE_DET_DIR, DOCEXIT_PADDLE_REC_DIR; offline: nothing is downloaded;
    tools.paddle_models builds them from rapidocr's files). The page-orientation, unwarping
    and text-line-orientation models stay off: they would be fetched, and pages arrive upright.
    paddlex promises no thread safety, so calls from worker threads take turns."""

    name = "paddleocr"

    def __init__(
        self, threads: int = 1, det_dir: str | None = None, rec_dir: str | None = None
    ) -> None:
        # The one environment write in service/: paddlex reads this variable at import (there is
        # no argument for it), and without it a model lookup first probes the model hubs, which
        # an offline machine cannot reach.
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        try:
            from paddleocr import PaddleOCR

            self.version = f"{metadata.version('paddleocr')}-{det_dir}-{rec_dir}"
        except ImportError as exc:
            raise OcrUnavailableError(
                "paddleocr is not installed "
                "(pip install --require-hashes -r requirements/paddle.txt)"
            ) from exc
        if not det_dir or not rec_dir:
            raise OcrUnavailableError(
                "paddleocr needs DOCEXIT_PADDLE_DET_DIR and DOCEXIT_PADDLE_REC_DIR model folders "
                "(`python -m tools.paddle_models --out DIR` builds them)"
            )
        logging.getLogger("paddlex").setLevel(logging.WARNING)  # one INFO line per model
        self._lock = threading.Lock()
        self._engine = PaddleOCR(
            text_detection_model_name=_paddle_model_name(det_dir),
            text_detection_model_dir=det_dir,
            text_recognition_model_name=_paddle_model_name(rec_dir),
            text_recognition_model_dir=rec_dir,
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


def make_engine(
    name: str, paddle_det_dir: str | None = None, paddle_rec_dir: str | None = None
) -> OcrEngine:
    """The engine named in settings; paddleocr also takes its model folders."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {sorted(ENGINES)}")
    if name == "paddleocr":
        return PaddleOcrEngine(det_dir=paddle_det_dir, rec_dir=paddle_rec_dir)
    engine: OcrEngine = ENGINES[name]()
    return engine
