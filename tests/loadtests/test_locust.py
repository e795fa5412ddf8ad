"""The locust scenarios in their own process (locust monkey-patches the interpreter with gevent,
so nothing here imports it): the locustfile loads, and a 5-second headless run against a real
service, with per-request budgets and an operator changing the budget, has no failure other
than 503s (which the locustfile reports apart, as OVERLOADED)."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from loadtests.servers import ROOT
from tests.loadtests.conftest import CLASSES, Running, needs_checkpoint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust not installed"),
]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"


def locust(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]
    return subprocess.run(
        cmd, env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def page_env(pages_root: Path) -> dict[str, str]:
    return {
        "LOCUST_PAGES": str(pages_root),
        "LOCUST_PER_CLASS": "1",
        "LOCUST_CLASSES": ",".join(CLASSES),
    }


def test_locustfile_loads_in_its_own_process(pages_root: Path) -> None:
    done = locust(["--list"], page_env(pages_root), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PageUser" in done.stdout and "AdminUser" in done.stdout
    bad = locust(["--list"], {**page_env(pages_root), "LOCUST_SCENARIO": "sideways"}, 120)
    assert bad.returncode != 0 and "LOCUST_SCENARIO" in bad.stderr


@needs_checkpoint
def test_five_second_headless_run(running: Running, pages_root: Path, tmp_path: Path) -> None:
    env = {
        **page_env(pages_root),
        "LOCUST_SCENARIO": "steady",
        "LOCUST_DURATION": "5",
        "LOCUST_USERS": "3",
        "LOCUST_OCR": "client",
        "LOCUST_ADMIN_PERIOD": "1",
        "DOCEXIT_ADMIN_TOKEN": running.token,
    }
    prefix = tmp_path / "run"
    args = ["--headless", "--host", running.docexit, "--only-summary", "--csv", str(prefix)]
    done = locust(args, env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "run_stats.csv").open()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    assert int(total["Failure Count"]) == 0, (tmp_path / "run_failures.csv").read_text()
    answered = [r for r in rows if r["Type"] == "POST" and r["Name"].startswith("/v1/classify")]
    assert sum(int(r["Request Count"]) for r in answered) > 0
    assert any(r["Name"].startswith("admin budget=") for r in rows)  # budget changed mid-run
    # The operator put back the budget in force before the run (none).
    headers = {"Authorization": f"Bearer {running.token}"}
    after = httpx.get(f"{running.docexit}/admin/v1/latency-budget", headers=headers).json()
    assert after["latency_budget_ms"] is None and after["version"] >= 3
    assert {r["Type"] for r in rows} <= {"GET", "POST", "PUT", "OVERLOADED", ""}
