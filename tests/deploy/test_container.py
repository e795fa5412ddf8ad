"""The container files agree with the service and the Makefile (no Docker engine needed)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_installs_what_the_makefile_installs_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "make sysdeps" in dockerfile  # one list of Debian packages, the Makefile's
    assert re.search(r"^USER 1000$", dockerfile, re.M)
    assert "/readyz" in dockerfile.split("HEALTHCHECK", 1)[1]
    assert "DOCEXIT_CHECKPOINT=/app/models/checkpoints/default" in dockerfile


def test_compose_runs_two_replicas_on_shared_redis_scraped_by_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = sorted(n for n in services if n.startswith("docexit"))
    assert len(replicas) == 2 and {"redis", "prometheus"} <= set(services)
    for name in replicas:
        env = services[name]["environment"]
        assert env["DOCEXIT_REDIS_URL"].startswith("redis://redis:")
        grace = int(str(services[name]["stop_grace_period"]).rstrip("s"))
        assert grace > 30  # longer than uvicorn's drain in service/__main__.py
    main = (ROOT / "service" / "__main__.py").read_text()
    assert "timeout_graceful_shutdown=30" in main
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(t.split(":")[0] for t in targets) == replicas
