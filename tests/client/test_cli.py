"""`docexit classify` against httpx.MockTransport: which files it sends and how, rows for answers
and refusals, resuming after the paths already in the results file, and the summary."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from docexit.cli import find_files, main, pages_for
from docexit.results import COLUMNS, ResultsFile, answer_row
from docexit.summary import percentile, summarize


def page_answer(
    label: str = "invoice", exit: str = "vision.2", skipped: bool = True
) -> dict[str, Any]:
    return {
        "label": label,
        "confidence": 0.9,
        "exit": {"stage": "vision", "layer": 2, "num_layers": 6, "name": exit},
        "ocr_skipped": skipped,
        "request_id": "r1",
        "page": 0,
    }


def document_answer(read: int, count: int) -> dict[str, Any]:
    pages = [page_answer("letter", "mm.2", skipped=False)] + [page_answer()] * (read - 1)
    return {
        "label": "letter",
        "confidence": 0.8,
        "pages_read": list(range(read)),
        "pages_requested": [0, count - 1],
        "page_count": count,
        "stopped": "confident",
        "pages": pages,
        "request_id": "d1",
    }


class FakeService:
    """Answers /v1/classify by the uploaded file's name; records each upload's form."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.forms: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode(errors="replace")
        name = re.search(r'filename="([^"]+)"', body)
        assert name is not None
        self.forms[name.group(1)] = body
        if name.group(1) == self.refuse:
            problem = {"title": "Unsupported media type", "status": 415, "detail": "not a page"}
            return httpx.Response(415, json=problem)
        if 'name="pages"\r\n\r\nall' in body:
            return httpx.Response(200, json=document_answer(2, 3))
        return httpx.Response(200, json=page_answer())


def pages_folder(root: Path) -> Path:
    """a/1.png a/2.JPG b/3.pdf b/c/4.png, plus a file that is no page."""
    for rel in ("a/1.png", "a/2.JPG", "b/3.pdf", "b/c/4.png", "b/notes.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def run(argv: list[str], service: Callable[[httpx.Request], httpx.Response]) -> int:
    return main(["classify", *argv, "--url", "http://docexit.test"], httpx.MockTransport(service))


def test_find_files_walks_folders_sorted_and_keeps_page_suffixes(tmp_path: Path) -> None:
    root = pages_folder(tmp_path / "in")
    extra = tmp_path / "loose.tiff"
    extra.write_bytes(b"x")
    found = find_files([str(root), str(extra), str(root / "a" / "1.png")])
    rel = [str(Path(f).relative_to(tmp_path)) for f in found]
    assert rel == ["in/a/1.png", "in/a/2.JPG", "in/b/3.pdf", "in/b/c/4.png", "loose.tiff"]
    with pytest.raises(FileNotFoundError):
        find_files([str(tmp_path / "missing")])


def test_pdfs_and_multi_frame_tiffs_are_read_whole(tmp_path: Path) -> None:
    frames = [Image.new("L", (20, 20), c) for c in (0, 255)]
    frames[0].save(tmp_path / "two.tif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "one.tif")
    assert pages_for(str(tmp_path / "two.tif")) == "all"
    assert pages_for(str(tmp_path / "one.tif")) is None
    assert pages_for("x.PDF") == "all" and pages_for("x.png") is None


def test_rows_of_a_page_and_of_a_document() -> None:
    page = answer_row("p.png", page_answer(), 12.34)
    assert set(page) == set(COLUMNS)
    assert (page["status"], page["exit"], page["pages_read"], page["page_count"]) == (
        "ok", "vision.2", 1, None,
    )  # fmt: skip
    doc = answer_row("d.pdf", document_answer(2, 3), 50.0)
    assert (doc["label"], doc["exit"], doc["pages_read"], doc["page_count"]) == (
        "letter",
        "mm.2",
        2,
        3,
    )
    assert doc["ocr_skipped"] is False  # its first page needed OCR
    assert doc["latency_ms"] == 50.0 and doc["request_id"] == "d1"


def test_a_run_writes_a_row_per_file_and_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out, service = pages_folder(tmp_path / "in"), tmp_path / "results.jsonl", FakeService()
    assert (
        run([str(root), "--out", str(out), "--concurrency", "3", "--budget-ms", "500"], service)
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["path"] for r in rows) == find_files([str(root)])
    assert all(r["status"] == "ok" and r["latency_ms"] >= 0 for r in rows)
    assert 'name="pages"\r\n\r\nall' in service.forms["3.pdf"]
    assert 'name="pages"' not in service.forms["1.png"]
    assert 'name="latency_budget_ms"\r\n\r\n500' in service.forms["2.JPG"]
    summary = capsys.readouterr().out
    assert "4 files: 4 answered, 0 errors" in summary
    assert re.search(r"invoice\s+3", summary) and re.search(r"letter\s+1", summary)
    assert re.search(r"vision\.2\s+3", summary) and "OCR skipped: 3 of 4" in summary
    assert "p50" in summary and "p99" in summary
    assert "document pages read: 2 of 3 in 1 documents" in summary


def test_a_refused_file_is_an_error_row_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out = pages_folder(tmp_path / "in"), tmp_path / "results.csv"
    assert run([str(root), "--out", str(out)], FakeService(refuse="2.JPG")) == 1
    rows = ResultsFile(out).rows
    assert len(rows) == 4 and out.read_text().splitlines()[0] == ",".join(COLUMNS)
    (error,) = [r for r in rows if r["status"] == "error"]
    assert error["path"].endswith("2.JPG") and error["http_status"] == 415
    assert error["error"] == "not a page" and error["label"] is None
    assert "errors: 1 (415: 1)" in capsys.readouterr().out
    # Run again: nothing is sent, the refusal is still a failure.
    again = FakeService()
    assert run([str(root), "--out", str(out)], again) == 1 and again.forms == {}
    assert len(ResultsFile(out).rows) == 4


def test_a_run_resumes_after_the_rows_already_written(tmp_path: Path) -> None:
    root, out = pages_folder(tmp_path / "in"), tmp_path / "results.jsonl"
    files = find_files([str(root)])
    first = answer_row(files[0], page_answer(), 10.0)
    # A crash cut the second row short: its file is sent again, the line does not linger.
    cut = json.dumps(answer_row(files[1], page_answer(), 10.0))[:-30]
    out.write_text(json.dumps(first) + "\n" + cut)
    service = FakeService()
    assert run([str(root), "--out", str(out)], service) == 0
    assert sorted(service.forms) == ["2.JPG", "3.pdf", "4.png"]
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert sorted(paths) == files  # every file once


def test_an_unreachable_service_stops_the_run_without_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    root, out = pages_folder(tmp_path / "in"), tmp_path / "results.jsonl"
    assert run([str(root), "--out", str(out), "--max-wait-s", "0"], refuse) == 1
    assert not out.exists() or out.read_text() == ""
    captured = capsys.readouterr()
    assert "service is unavailable" in captured.err
    assert "4 not answered (run again to resume)" in captured.out


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 90) == 3.0
    text = summarize([])
    assert text.startswith("0 files: 0 answered, 0 errors")
