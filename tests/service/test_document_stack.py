"""A whole document on the shipped checkpoint, in a real service process with real Tesseract: an
invoice, a letter, then the letter's attachment, as one PDF. The default reads fewer pages than
pages=all at full depth, which reads them all; every page read is answered on its own too."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.processes import ServiceProcess

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PAGES = ["invoice-microinvoice.png", "letter-groff-mom.png", "form-dd0293.png"]


def invoice_letter_attachment() -> bytes:
    images = [Image.open(EXAMPLES / name).convert("L") for name in PAGES]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=100.0)
    return buf.getvalue()


def test_the_default_reads_fewer_pages_than_full_depth(shipped_service: ServiceProcess) -> None:
    pdf = invoice_letter_attachment()
    with httpx.Client(base_url=shipped_service.url, timeout=120) as http:

        def post(**form: str) -> dict[str, object]:
            files = {"file": ("mail.pdf", pdf, "application/pdf")}
            r = http.post("/v1/classify", files=files, data={"pages": "all", **form})
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        default, full = post(), post(full_depth="true")
    assert full["pages_read"] == [0, 1, 2] and full["stopped"] == "all_read"
    assert len(default["pages_read"]) < 3 and default["stopped"] == "confident"  # type: ignore[arg-type]
    assert default["label"] == "invoice" == default["pages"][0]["label"]  # type: ignore[index]
    for body in (default, full):
        pages = body["pages"]
        assert [p["page"] for p in pages] == body["pages_read"]  # type: ignore[union-attr]
        assert body["page_count"] == 3
