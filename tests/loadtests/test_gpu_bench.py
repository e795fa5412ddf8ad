"""make bench-gpu's script on this CPU: it refuses without a GPU unless told, and with
--allow-cpu writes its report, every section and plot filled (the numbers need a GPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from loadtests import gpu_bench
from loadtests.gpu_report import PLOTS


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_it_explains_and_exits_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit:
        gpu_bench.main(["--out", str(tmp_path / "gpu")])
    assert exit.value.code == 2
    assert not (tmp_path / "gpu").exists()


def test_on_cpu_when_allowed_it_writes_the_whole_report(tmp_path: Path, pages_root: Path) -> None:
    out = tmp_path / "gpu"
    args = gpu_bench.parse(
        ["--out", str(out), "--allow-cpu", "--per-class", "1", "--sizes", "1", "4",
         "--rates", "0.5", "--seconds", "1.5", "--dtype", "float32", "--no-progress",
         "--pages-dir", str(pages_root)]
    )  # fmt: skip
    path = gpu_bench.run(args)
    assert path == out / "report.md"
    r = json.loads((out / "results.json").read_text())
    assert r["pages"] == 16
    for series in ("full_depth", "early_exit"):
        assert [x["batch"] for x in r[series]] == [1, 4]
        assert all(x["throughput"] > 0 and x["p95_ms"] >= x["p50_ms"] > 0 for x in r[series])
        assert all(0.0 <= x["saved"] < 1.0 for x in r[series])
    assert all(x["saved"] == 0.0 for x in r["full_depth"])  # nobody leaves early
    assert [a["share"] for a in r["arrivals"]] == [0.5] and r["arrivals"][0]["pages"] > 0
    assert len(r["targets"]) == 2
    text = path.read_text()
    for plot in PLOTS:
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({plot})" in text
