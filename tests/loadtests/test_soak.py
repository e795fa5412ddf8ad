"""The soak in a tiny mode against a real server process (20 seconds, real Tesseract for
part of the mix): every request answered, memory sampled, the report written. The 20-minute
verdict is `make soak`'s business."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests import soak
from tests.loadtests.conftest import needs_checkpoint, needs_tesseract


def test_growth_compares_medians_after_the_warmup() -> None:
    # 100 MiB during the warm-up (excluded), then a steady leak of 1 MiB a second from 200 MiB,
    # with one transient spike that a single-sample comparison would read as a leak.
    mib = 2**20
    rss = [(float(t), 100 * mib) for t in range(0, 60)]
    rss += [(float(t), (200 + (t - 60)) * mib) for t in range(60, 300)]
    rss[-2] = (298.0, 900 * mib)
    g = soak.growth(rss, warmup_s=60, end_s=299)
    assert g["baseline_bytes"] == pytest.approx(230 * mib, rel=0.01)  # minute 1-2 median
    assert g["final_bytes"] == pytest.approx(409 * mib, rel=0.01)  # last minute's median
    assert g["growth"] == pytest.approx(409 / 230 - 1, rel=0.02)
    with pytest.raises(RuntimeError):
        soak.growth(rss[:5], warmup_s=60, end_s=299)


@pytest.mark.slow
@needs_checkpoint
@needs_tesseract
def test_a_short_soak_answers_everything_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "soak"
    args = soak.parse(
        ["--out", str(out), "--minutes", "0.35", "--warmup-minutes", "0.1", "--sample-s", "1",
         "--per-class", "1", "--pages-dir", str(tmp_path / "pages")]
    )  # fmt: skip
    result = soak.run(args)
    assert result["requests"] >= 8 and result["errors"] == 0, result["error_examples"]
    assert set(result["statuses"]) == {"200"}
    assert len(result["rss"]) >= 15 and result["baseline_bytes"] > 50 * 2**20
    saved = json.loads((out / "soak.json").read_text())
    assert saved["requests"] == result["requests"] and "passed" in saved
    report = (out / "report.md").read_text()
    assert "growth" in report and (out / "rss.png").stat().st_size > 1000
