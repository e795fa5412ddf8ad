"""The bench end to end in a tiny mode, against the real server processes: three pages, client
OCR (the generator's words, so no Tesseract), a few seconds per phase. Checks that every section,
plot and target verdict is written; the numbers themselves are `make bench`'s business."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from loadtests import bench
from tests.loadtests.conftest import CLASSES, Running, needs_checkpoint

pytestmark = [
    pytest.mark.slow,
    needs_checkpoint,
    pytest.mark.skipif(
        importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed"
    ),
]
SECTIONS = (
    "## Acceptance targets",
    "## a, b and c side by side",
    "## Throughput at saturation",
    "## Budget sweep",
    "## The card's policies, live",
    "## Overload",
)
TARGETS = (
    "throughput a/b",
    "mean end-to-end latency a/b, accuracy a - b",
    "p95 within the budget",
    "overload: errors other than 503",
    "overload 2x: share refused",
    "overload 2x: p95 of accepted answers against the idle p95",
    "overload 3x: every refusal a 503 with Retry-After, no other error",
    "bench wall time",
    "pages a and b both answered",
)
PLOTS = ("latency_accuracy.png", "exit_layers.png", "latency_cdf.png", "budget_sweep.png")


def readme_text(out: Path) -> str:
    return (out / "readme_section.md").read_text()


def test_tiny_bench_writes_the_report(running: Running, pages_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = bench.parse(
        ["--out", str(out), "--pages-dir", str(pages_root), "--per-class", "1",
         "--classes", *CLASSES, "--ocr", "client", "--minutes", "0.2", "--rounds", "1",
         "--sweep-points", "3", "--policy-knobs", "1", "--no-progress",
         "--docexit-url", running.docexit, "--baseline-url", running.baseline,
         "--noshadow-url", running.noshadow, "--batched-url", running.batched,
         "--max-batch", "4", "--admin-token", running.token, "--overload-window", "2"]
    )  # fmt: skip
    path = bench.run(args)
    assert path == out / "report.md"
    text = path.read_text()
    for section in SECTIONS:
        assert section in text, section
    for target in TARGETS:
        lines = [ln for ln in text.splitlines() if ln.startswith(f"- {target}")]
        assert len(lines) == 1 and lines[0].endswith((": met", ": not met")), target
    for plot in PLOTS:
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({plot})" in text

    results = json.loads((out / "results.json").read_text())
    assert {t["target"].split(" (")[0] for t in results["targets"]} == set(TARGETS)
    compare = results["compare"]
    accuracy = results["accuracy"]  # a and b on every page, whatever compare's time share cut
    assert accuracy["pages"] == len(CLASSES) and 0.0 <= accuracy["sign_test_p"] <= 1.0
    a_samples = [json.loads(ln) for ln in (out / "samples.jsonl").open()]
    a_samples = [x for x in a_samples if x["phase"] == "compare" and x["variant"] == "a"]
    assert all(isinstance(x["certified"], bool) for x in a_samples)  # read from each answer
    share = sum(x["certified"] for x in a_samples) / len(a_samples)
    assert accuracy["a_certified_share"] == share
    assert "two-sided sign test p =" in readme_text(out)
    shadow = results["shadow"]  # a (lane on) and a0 (lane off) over the same pages
    assert shadow["a"]["answered"] == shadow["a0"]["answered"] == shadow["pages"] > 0
    assert shadow["p95_ratio"] > 0 and "## Shadow monitoring's cost" in text
    batching = results["batching"]  # a0 (alone) and ab (batched) over the same pages
    assert batching["a0"]["answered"] == batching["ab"]["answered"] == batching["pages"] > 0
    assert batching["throughput_ratio"] > 0 and batching["max_batch"] == 4
    assert "## Batching" in text and "up to 4 pages a pass" in text
    assert compare["b"]["mean_exit_layer"] == 6 == compare["c"]["mean_exit_layer"]
    for key in ("a", "b", "c"):
        assert compare[key]["answered"] == len(CLASSES)
        assert results["saturation"][key]["throughput"] > 0
    assert results["sweep"]["budgets"][0]["budget_ms"] == results["sweep"]["smallest_useful_ms"]
    runs = [(o["factor"], o["label"]) for o in results["overload"]]
    assert runs == [(2.0, ""), (3.0, ""), (2.0, "degrade off")]
    assert all(o["other_errors"] == 0 for o in results["overload"])
    assert "| 2x (degrade off) |" in text and "accuracy degraded" in text
    readme = readme_text(out)
    assert readme.startswith("## Benchmark") and "| a: docexit, default policy |" in readme
    assert all(f"{out}/{plot})" in readme for plot in PLOTS)  # tmp_path: not under the repo
    phases = {json.loads(line)["phase"] for line in (out / "samples.jsonl").open()}
    assert {
        "compare",
        "saturation",
        "shadow",
        "batching",
        "floor",
        "sweep",
        "policies",
        "overload-2x",
    } <= phases
