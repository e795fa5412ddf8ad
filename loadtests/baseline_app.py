"""The plain baseline (c): the same checkpoint's final classifier run through transformers in one
forward pass, with the same OCR and no exits, behind the simplest FastAPI endpoint.

    python -m loadtests.baseline_app     # HOST, PORT; BASELINE_WORKERS threads (default: cores)

Per page: decode to grayscale (as the service does), Tesseract over the whole page
(models.ocr.TesseractEngine, as the service uses it), the same tokeniser and image tensor
(models.inputs), then transformers' LayoutLMv3Model.forward over text and image at once, the
masked mean of its last hidden states (what the final exit reads) and the final classifier's
head with its calibration temperature. No vision stream, no top band, no policy, no deadline,
no queue limit. The endpoint answers the fields of the service's response that the bench reads.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import torch
import uvicorn
from fastapi import FastAPI, File, Form, UploadFile
from PIL import Image
from pydantic import BaseModel

from models.card import Card
from models.checkpoint import load_checkpoint
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.ocr import OcrEngine, TesseractEngine
from service.settings import usable_cores


class PlainModel:
    """One forward pass of the checkpoint's backbone (a transformers LayoutLMv3Model) and its
    final classifier; nothing of the early-exit machinery."""

    def __init__(
        self, model: MultiExitLayoutLMv3, card: Card, ocr: OcrEngine | None = None
    ) -> None:
        self.config = model.config
        self.backbone = model.backbone
        final = model.config.final_exit
        key = "classifier" if model.config.head == "gate" else final.replace(".", "_")
        self.head = model.heads[key]
        self.temperature = float(card.temperatures.get(final, 1.0))
        self.labels: list[str] = list(card.labels)
        self.ocr = ocr

    @classmethod
    def load(cls, checkpoint: Path, ocr: OcrEngine | None = None) -> PlainModel:
        model, card = load_checkpoint(checkpoint, "cpu")
        return cls(model, card, ocr)

    @torch.inference_mode()
    def probs(self, image: Image.Image, texts: list[str], boxes: list[Any]) -> list[float]:
        c = self.config
        text = encode_words(texts, boxes, image.size, c.max_text_tokens, c.page_fit)
        ids, bbox, mask = (x.unsqueeze(0) for x in (text.input_ids, text.bbox, text.attention_mask))
        pixels = image_tensor(image, c.image_size, c.pixels, c.page_fit).unsqueeze(0)
        hidden = self.backbone(
            input_ids=ids, bbox=bbox, attention_mask=mask, pixel_values=pixels
        ).last_hidden_state
        keep = torch.cat([mask, mask.new_ones(1, hidden.shape[1] - mask.shape[1])], 1)
        weights = keep.to(hidden.dtype).unsqueeze(-1)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        logits = self.head(pooled)[0].float()
        return torch.softmax(logits / self.temperature, -1).tolist()

    def classify(self, data: bytes, client_words: str | None = None) -> dict[str, Any]:
        start = time.perf_counter()
        image = Image.open(io.BytesIO(data)).convert("L")
        t = time.perf_counter()
        if client_words is not None:
            words = Words.model_validate_json(client_words).words
            texts, boxes = [w.text for w in words], [list(w.box) for w in words]
        else:
            assert self.ocr is not None, "no OCR engine"
            found = self.ocr.recognize(image)
            texts, boxes = [w.text for w in found], [list(w.box) for w in found]
        ocr_s = time.perf_counter() - t
        t = time.perf_counter()
        probs = self.probs(image, texts, boxes)
        encode_s = time.perf_counter() - t
        best = max(range(len(probs)), key=probs.__getitem__)
        layers = self.config.num_layers
        return {
            "label": self.labels[best],
            "confidence": probs[best],
            "exit": {"stage": "multimodal", "layer": layers, "num_layers": layers, "name": "final"},
            "ocr_skipped": False,
            "ocr_calls": 0 if client_words is not None else 1,
            "deadline_hit": False,
            "timings_ms": {
                "ocr": round(ocr_s * 1000, 3),
                "encode": round(encode_s * 1000, 3),
                "total": round((time.perf_counter() - start) * 1000, 3),
            },
        }


class Word(BaseModel):
    text: str
    box: tuple[float, float, float, float]


class Words(BaseModel):
    words: list[Word]


def create_app(checkpoint: Path | None = None, workers: int | None = None) -> FastAPI:
    folder = checkpoint or Path(os.environ.get("DOCEXIT_CHECKPOINT", "models/checkpoints/default"))
    threads = workers or int(os.environ.get("BASELINE_WORKERS", usable_cores()))
    # One page per worker thread, one torch thread each: as the service runs on CPU.
    torch.set_num_threads(max(1, usable_cores() // threads))
    model = PlainModel.load(folder, TesseractEngine())
    for _ in range(2):  # as the service warms up: blank pages, so lazy allocations are done
        model.probs(Image.new("L", (770, 1000), 255), ["warm", "up"], [[10, 10, 60, 30]] * 2)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="baseline-worker")
    app = FastAPI(title="docexit plain baseline")

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/classify")
    async def classify(
        file: Annotated[UploadFile, File()], ocr: Annotated[str | None, Form()] = None
    ) -> dict[str, Any]:
        data = await file.read()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, model.classify, data, ocr)

    return app


def main() -> None:
    uvicorn.run(
        create_app(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8001")),
        log_level=os.environ.get("LOG_LEVEL", "warning").lower(),
    )


if __name__ == "__main__":
    main()
