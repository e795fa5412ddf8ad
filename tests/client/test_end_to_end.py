"""`docexit classify` against a real `python -m service` (shipped checkpoint, real Tesseract): a
folder of 50 pages and 2 PDFs gives 52 rows although the server is stopped (SIGTERM) midway and
started again on the same port, and a later run resumes after the rows already written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.processes import SHIPPED, ServiceProcess, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]
PAGES, PDFS, PDF_PAGES = 50, 2, 3
# Start-up without warm-up pages, no drain before a stop, no shadow re-runs: the test pays for
# two start-ups, and each of these would only add seconds.
QUICK = {
    "DOCEXIT_WARMUP_REQUESTS": "0",
    "DOCEXIT_SHUTDOWN_DRAIN_S": "0",
    "DOCEXIT_SHADOW_RATE": "0",
}
# A budget that buys a vision-only operating point: about 0.1 s a page on 2 cores, no OCR.
BUDGET_MS = "300"
WORDS = ["Invoice", "Total due", "Dear Sir", "Minutes of the meeting", "Account", "Signed"]


def page(i: int) -> Image.Image:
    image = Image.new("L", (400, 520), 255)
    draw = ImageDraw.Draw(image)
    for line in range(6):
        draw.text((30, 40 + 32 * line), f"{WORDS[(i + line) % len(WORDS)]} {i}-{line}", fill=0)
    return image


def make_inputs(folder: Path) -> Path:
    """50 PNG pages in two subfolders and 2 three-page PDFs in a third."""
    for sub in ("a", "b", "docs"):
        (folder / sub).mkdir(parents=True)
    for i in range(PAGES):
        page(i).save(folder / ("a" if i % 2 else "b") / f"page-{i:02d}.png")
    for d in range(PDFS):
        pages = [page(100 + 10 * d + k) for k in range(PDF_PAGES)]
        pages[0].save(folder / "docs" / f"doc-{d}.pdf", save_all=True, append_images=pages[1:])
    return folder


def start_service(log: Path, port: int) -> ServiceProcess:
    service = ServiceProcess(log, PORT=str(port), **QUICK)
    service.http.close()  # its client points at the port ServiceProcess picked for itself
    service.port, service.url = port, f"http://127.0.0.1:{port}"
    service.http = httpx.Client(base_url=service.url, timeout=60)
    return service


def docexit() -> list[str]:
    """The console script `make venv` installs, else the module."""
    script = Path(sys.executable).with_name("docexit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "docexit.cli"]


def rows_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def wait_rows(out: Path, at_least: int, cli: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= at_least:
            return
        assert cli.poll() is None, cli.communicate()
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} rows after {timeout_s} s")


def test_a_folder_survives_a_restart_midway_and_resumes(tmp_path: Path) -> None:
    t0 = time.monotonic()
    folder, out, port = make_inputs(tmp_path / "in"), tmp_path / "results.jsonl", free_port()
    expected = sorted(str(p) for p in folder.rglob("*") if p.suffix in (".png", ".pdf"))
    assert len(expected) == PAGES + PDFS
    service = start_service(tmp_path / "service-1.log", port)
    command = [
        *docexit(), "classify", str(folder), "--url", service.url, "--concurrency", "2",
        "--out", str(out), "--budget-ms", BUDGET_MS,
    ]  # fmt: skip
    cli: subprocess.Popen[str] | None = None
    try:
        service.wait_ready()
        t_ready = time.monotonic()
        cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_rows(out, 10, cli, timeout_s=60)
        service.stop()  # SIGTERM: what was in flight is answered, then connections are refused
        t_stopped = time.monotonic()
        assert cli.poll() is None, "the run ended before the restart"
        service = start_service(tmp_path / "service-2.log", port)
        stdout, stderr = cli.communicate(timeout=240)
        t_done = time.monotonic()
        assert cli.returncode == 0, stderr[-3000:]
        check_rows(rows_of(out), expected)
        check_summary(stdout)

        # A crash that lost the last 5 rows: the next run sends those 5 files, nothing else.
        lines = out.read_text().splitlines(keepends=True)
        lost = {json.loads(line)["path"] for line in lines[-5:]}
        out.write_text("".join(lines[:-5]))
        again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        if cli is not None and cli.poll() is None:  # a failure above: no run left behind
            cli.kill()
            cli.communicate()
        service.stop()
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"resuming: {PAGES + PDFS - 5} of {PAGES + PDFS} files" in again.stderr
    after = rows_of(out)
    check_rows(after, expected)
    assert {r["path"] for r in after[-5:]} == lost
    check_summary(again.stdout)  # the whole results file's, not only this run's 5
    t_end = time.monotonic()
    sys.stderr.write(
        f"\nend-to-end: first start {t_ready - t0:.1f} s, 10 rows and stop "
        f"{t_stopped - t_ready:.1f} s, restart and the rest {t_done - t_stopped:.1f} s, "
        f"resume run {t_end - t_done:.1f} s; total {t_end - t0:.1f} s\n{stdout}"
    )


def check_rows(rows: list[dict[str, Any]], expected: list[str]) -> None:
    assert sorted(r["path"] for r in rows) == expected  # every file once, none twice
    for r in rows:
        assert r["status"] == "ok" and r["http_status"] == 200, r
        assert r["label"] and r["exit"] and r["request_id"] and r["latency_ms"] > 0, r
        if r["path"].endswith(".pdf") and r["page_count"] is not None:  # `pages` honoured
            assert r["page_count"] == PDF_PAGES and 1 <= r["pages_read"] <= PDF_PAGES, r


def check_summary(stdout: str) -> None:
    assert f"{PAGES + PDFS} files: {PAGES + PDFS} answered, 0 errors" in stdout, stdout
    assert "answering exit" in stdout and "OCR skipped" in stdout, stdout
    assert all(p in stdout for p in ("p50", "p90", "p99")), stdout
    assert sum(int(line.split()[-1]) for line in class_lines(stdout)) == PAGES + PDFS, stdout


def class_lines(summary: str) -> list[str]:
    """The rows of the summary's class table."""
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("class"))
    end = next(i for i, line in enumerate(lines) if line.startswith("answering exit"))
    return lines[start + 1 : end]
