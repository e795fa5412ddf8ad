"""The shipped checkpoint with real tesseract, through the whole app (slow: real OCR)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from service.app import create_app
from tests.service.conftest import make_settings, wait_ready

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "checkpoints" / "default"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]


def invoice_png(tmp_path: Path) -> Path:
    page = Image.new("L", (770, 1000), 255)
    draw = ImageDraw.Draw(page)
    lines = ["INVOICE", "Invoice number 48213", "Date 3 March 1994", "Total due 12,904.10"]
    for i, text in enumerate(lines):
        draw.text((80, 80 + 40 * i), text, fill=0)
    path = tmp_path / "page.png"
    page.save(path)
    return path


def test_real_ocr_and_a_budget_that_cannot_pay_for_it(tmp_path: Path) -> None:
    app = create_app(make_settings(SHIPPED, ocr_engine="tesseract", warmup_requests=1))
    page = invoice_png(tmp_path).read_bytes()
    with TestClient(app) as client:
        wait_ready(client, timeout_s=120)
        model = client.get("/v1/model").json()
        assert len(model["labels"]) == 16 and model["operating_points"]
        files = {"file": ("page.png", page, "image/png")}
        full = client.post("/v1/classify", files=files, data={"full_depth": "true"}).json()
        assert full["label"] in model["labels"] and not full["ocr_skipped"]
        assert full["timings_ms"]["ocr"] > 0 and full["exit"]["layer"] == full["exit"]["num_layers"]
        # Tesseract takes seconds per page here: a 500 ms budget never pays for it.
        quick = client.post("/v1/classify", files=files, data={"latency_budget_ms": "500"}).json()
        assert quick["ocr_skipped"] and quick["timings_ms"]["ocr"] == 0
        assert quick["timings_ms"]["total"] < 2000
