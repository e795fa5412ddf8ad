"""The README's quick start, run as written: every `$ curl` line of its "## The service" section
(up to the next "### " heading) against a real `python -m service` on a free port with the
shipped checkpoint and real Tesseract, from the repository root, so the pages it posts must
ship with a fresh clone (examples/, listed with their SHA-256 in examples/manifest.json)."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.processes import SHIPPED, ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
README_PORT = "localhost:8000"


def quickstart_commands() -> list[str]:
    """The `$ curl ...` lines of README.md's service section, without the prompt."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## The service\n", 1)[1].split("\n### ", 1)[0]
    lines = (line.strip() for line in section.splitlines())
    return [line.removeprefix("$ ") for line in lines if line.startswith("$ curl ")]


def posted_files(args: list[str]) -> list[Path]:
    """The files a curl command uploads (`-F file=@PATH`), relative to the repository root."""
    return [ROOT / arg.split("=@", 1)[1] for arg in args if "=@" in arg]


def form_field(args: list[str], name: str) -> str | None:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")]
    return values[-1] if values else None


def test_the_quickstart_posts_only_files_that_ship() -> None:
    commands = quickstart_commands()
    assert len(commands) >= 3, commands  # classify a page, a PDF, and extract
    endpoints = {c.split()[-1].split("/", 1)[1] for c in commands}
    assert {"v1/classify", "v1/extract"} <= endpoints, commands
    assert any(".pdf" in c for c in commands), commands
    assert any("pages=all" in c for c in commands), commands  # a whole document
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "curl" and README_PORT in args[-1], command
        files = posted_files(args)
        assert files, command
        for f in files:
            assert f.is_file(), f"{command}: {f} does not exist"
            assert f.parent == EXAMPLES, f"{command}: posts {f}, not a page from examples/"


def test_every_example_is_listed_with_its_sha256() -> None:
    manifest: list[dict[str, Any]] = json.loads((EXAMPLES / "manifest.json").read_text())
    listed = [entry["file"] for entry in manifest]
    assert len(listed) == len(set(listed)), listed
    for entry in manifest:
        data = (EXAMPLES / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        for key in ("class", "package", "version", "path", "licence", "sha256_source"):
            assert entry.get(key), f"{entry['file']}: no {key}"
    present = {p.name for p in EXAMPLES.iterdir()} - {"README.md", "manifest.json"}
    assert present == set(listed)
    table = (EXAMPLES / "README.md").read_text()
    for entry in manifest:
        assert f"`{entry['file']}`" in table and entry["sha256"] in table, entry["file"]
    assert sum(p.stat().st_size for p in EXAMPLES.iterdir()) < 3 * 2**20


@pytest.mark.slow
@pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint")
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("command", quickstart_commands())
def test_the_quickstart_command_answers(command: str, shipped_service: ServiceProcess) -> None:
    service = shipped_service
    args = shlex.split(command.replace(README_PORT, service.url.removeprefix("http://")))
    # The status code on a line of its own after the body: curl -s exits 0 on a 4xx or 5xx too.
    done = subprocess.run(
        [*args, "-w", "\n%{http_code}"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    body_text, status = done.stdout.rsplit("\n", 1)
    assert status == "200", done.stdout
    body = json.loads(body_text)
    labels = service.http.get("/v1/model").json()["labels"]
    page = int(form_field(args, "page") or 0)
    if args[-1].endswith("/v1/classify"):
        answer = body
    else:
        assert args[-1].endswith("/v1/extract"), command
        assert isinstance(body["fields"], dict) and body["decoder"]["steps"] > 0, body
        answer = body["classification"]
    assert answer["label"] in labels and 0 < answer["confidence"] <= 1, answer
    if form_field(args, "pages") is not None:  # a document: its pages' answers, in order
        assert [p["page"] for p in answer["pages"]] == answer["pages_read"], answer
        assert answer["pages_read"][0] == 0 and answer["page_count"] >= len(answer["pages_read"])
        return
    assert answer["page"] == page, answer
