"""One result row per input file, and the results file (JSON Lines or CSV, from its suffix) that
a run appends them to one flushed line at a time, so that a crash loses at most the line being
written and the next run resumes after the paths already there."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO, Any

from docexit.client import Answer, is_document

COLUMNS = (
    "path",
    "status",  # ok, or error
    "http_status",  # the service's status; empty: no answer (connection, timeout)
    "label",  # empty: the service abstained
    "confidence",
    "exit",  # the answering exit; a document's: its first page's
    "pages_read",
    "page_count",  # documents only
    "ocr_skipped",  # a document: true when no page it read needed OCR
    "latency_ms",  # measured here, whole call, retries' waits included
    "request_id",
    "error",
)
Row = dict[str, Any]
FORMATS = {".jsonl": "jsonl", ".csv": "csv"}


def answer_row(path: str, answer: Answer, latency_ms: float) -> Row:
    """The row of an answer: one page's, or a document's (detected by its pages_read)."""
    first = answer["pages"][0] if is_document(answer) and answer["pages"] else answer
    row: Row = dict.fromkeys(COLUMNS)
    row.update(
        path=path,
        status="ok",
        http_status=200,
        label=answer.get("label"),
        confidence=answer.get("confidence"),
        exit=first.get("exit", {}).get("name"),
        latency_ms=round(latency_ms, 1),
        request_id=answer.get("request_id"),
    )
    if is_document(answer):
        pages = answer["pages"]
        row.update(
            pages_read=len(answer["pages_read"]),
            page_count=answer.get("page_count"),
            ocr_skipped=all(p.get("ocr_skipped", False) for p in pages),
        )
    else:
        row.update(pages_read=1, ocr_skipped=answer.get("ocr_skipped"))
    return row


def error_row(path: str, status: int | None, detail: str, latency_ms: float) -> Row:
    row: Row = dict.fromkeys(COLUMNS)
    row.update(
        path=path, status="error", http_status=status, error=detail, latency_ms=round(latency_ms, 1)
    )
    return row


def format_of(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: the results file must end in .jsonl or .csv") from None


class ResultsFile:
    """The rows already in `path` (read at open), and an appender for new ones."""

    def __init__(self, path: Path) -> None:
        self.path, self.format = path, format_of(path)
        self.rows: list[Row] = self._read() if path.exists() else []
        self._file: IO[str] | None = None
        self._csv: csv.DictWriter[str] | None = None

    def done(self) -> set[str]:
        return {str(r["path"]) for r in self.rows}

    def append(self, row: Row) -> None:
        if self._file is None:
            self._open()
        assert self._file is not None
        if self._csv is not None:
            self._csv.writerow({k: "" if v is None else v for k, v in row.items()})
        else:
            self._file.write(json.dumps(row) + "\n")
        self._file.flush()  # one line at a time: a crash loses nothing already answered
        self.rows.append(row)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> None:
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", newline="", encoding="utf-8")
        if self.format == "csv":
            self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS, lineterminator="\n")
            if fresh:
                self._csv.writeheader()

    def _read(self) -> list[Row]:
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            # A line cut short by a crash: dropped, so its file is sent again and the next row
            # does not start in the middle of it.
            text = text[: text.rfind("\n") + 1]
            with self.path.open("rb+") as f:
                f.truncate(len(text.encode("utf-8")))
                os.fsync(f.fileno())
        if self.format == "csv":
            return [_typed(r) for r in csv.DictReader(io.StringIO(text))]
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _typed(row: dict[str, str]) -> Row:
    """A CSV row with the JSON row's types back (the summary counts and sorts them)."""
    out: Row = {k: (None if v == "" else v) for k, v in row.items()}
    for key in ("http_status", "pages_read", "page_count"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    for key in ("confidence", "latency_ms"):
        if out.get(key) is not None:
            out[key] = float(out[key])
    if out.get("ocr_skipped") is not None:
        out["ocr_skipped"] = out["ocr_skipped"] == "True"
    return out
