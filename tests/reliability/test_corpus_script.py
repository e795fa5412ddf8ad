"""The bad-input corpus script: deterministic, as large as promised, and the same whether run
as `python -m tests.reliability.badinputs --out DIR` or built by a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT
from tests.reliability.badinputs import build


def test_the_script_and_build_write_the_same_corpus(tmp_path: Path) -> None:
    cli, lib = tmp_path / "cli", tmp_path / "lib"
    subprocess.run(
        [sys.executable, "-m", "tests.reliability.badinputs", "--out", str(cli)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    manifest = build(lib)
    assert (cli / "manifest.json").read_text() == (lib / "manifest.json").read_text()
    assert json.loads((cli / "manifest.json").read_text()) == manifest
    for entry in manifest["cases"]:
        if entry["file"] is not None:
            assert (cli / entry["file"]).read_bytes() == (lib / entry["file"]).read_bytes()


def test_every_case_says_what_to_send_and_why(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    cases = manifest["cases"]
    assert len(cases) >= 50
    assert len({c["name"] for c in cases}) == len(cases)
    for case in cases:
        assert case["status"] in (413, 415, 422) and case["why"]
        assert case["file"] is None or (tmp_path / case["file"]).is_file()
