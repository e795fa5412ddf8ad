"""Acceptance of shadow monitoring (issue 17), end to end: a real `python -m service` on the
shipped checkpoint with real Tesseract, every answered request shadowed
(DOCEXIT_SHADOW_RATE=1), scraped by a real Prometheus with the shipped rules. Under the default
policy the realised loss estimate stays below ε and the alert's expression returns nothing;
after an operator sets a deliberately bad threshold through the admin API (every page answered
at the first vision exit) it rises above ε and the alert's expression returns the job's series.

The alert's floor of 100 pairs an hour is lowered to what the test sends (a few dozen pages:
generated ones, some read by Tesseract, the rest sent with their own words to keep the test
short); the `for` duration is the rule's business, not the expression's. About two minutes."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtests.pages import BenchPage, make_pages
from models.card import Card, Certification
from tests.deploy import promql
from tests.deploy.promql import ROOT
from tests.deploy.test_live_metrics import Prometheus, wait_for
from tests.processes import TOKEN, ServiceProcess

SHIPPED = ROOT / "models" / "checkpoints" / "default"
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "shadow-acceptance"}
BAD = {"name": "global", "tau": 0.0}  # every page answered at the first vision exit
FLOOR = "job:docexit_shadow:increase1h >= 100"
log = logging.getLogger("docexit.tests.shadow_live")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed"),
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
]


def certified_checkpoint(tmp: Path) -> tuple[Path, float]:
    """The shipped checkpoint and its ε. A shipped card without a certificate yet is copied
    with one that certifies its default policy at ε = 1% (counts made up for this test, not
    a calibration): ε, its gauge and the alert need a certificate to exist."""
    card = Card.read(SHIPPED)
    if card.certification is not None:
        return SHIPPED, card.certification.epsilon
    assert card.policy is not None
    folder = tmp / "certified"
    folder.mkdir()
    (folder / "weights.safetensors").symlink_to(SHIPPED / "weights.safetensors")
    cert = Certification.model_validate(
        {"epsilon": 0.01, "delta": 0.1, "risk": "harm", "reference": "full_depth", "pages": 500}
        | {"tested": [{"policy": card.policy.spec(), "risky": 0}]}
    )
    card.updated(certification=cert).write(folder)
    return folder, 0.01


def alert_expr(floor: int) -> str:
    (expr,) = [e for e in promql.alert_exprs() if e.where.endswith("DocexitShadowLossAboveEpsilon")]
    assert FLOOR in expr.promql
    return expr.promql.replace(FLOOR, f"job:docexit_shadow:increase1h >= {floor}")


class Client:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120)
        self.sent = 0

    def classify(self, page: BenchPage, own_words: bool) -> dict[str, Any]:
        """One page; returns once its shadow pair is counted (or dropped), so that the lane
        never finds the pool busy and every request makes a pair."""
        form = {"ocr": page.truth_ocr} if own_words else {}
        files = {"file": (page.path.name, page.data, "image/png")}
        r = self.http.post("/v1/classify", files=files, data=form)
        assert r.status_code == 200, r.text
        self.sent += 1
        deadline = time.monotonic() + 120
        while (view := self.shadow())["pairs"] + sum(view["dropped"].values()) < self.sent:
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
        body: dict[str, Any] = r.json()
        return body

    def shadow(self) -> dict[str, Any]:
        r = self.http.get("/admin/v1/shadow", headers=AUTH)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def settle(prometheus: Prometheus, pairs: int) -> float:
    """The job's loss estimate once Prometheus has every pair and has evaluated the rules."""
    wait_for(prometheus, f"sum(docexit_shadow_total) >= {pairs}", 30)
    wait_for(prometheus, f"job:docexit_shadow:increase1h >= {pairs * 0.9}", 30)
    time.sleep(2.5)  # a rule evaluation after the last scrape
    (sample,) = prometheus.query("job:docexit_shadow_disagreement:ratio_rate1h")
    return float(sample["value"][1])


def test_the_loss_estimate_crosses_epsilon_under_a_bad_threshold_only(tmp_path: Path) -> None:
    folder, epsilon = certified_checkpoint(tmp_path)
    pages = make_pages(tmp_path / "pages", per_class=1)  # one page of each class
    service = ServiceProcess(
        tmp_path / "docexit.log",
        DOCEXIT_CHECKPOINT=str(folder),
        DOCEXIT_SHADOW_RATE="1",
        DOCEXIT_WORKERS="2",  # one request at a time never makes every worker busy
    )
    prometheus = Prometheus(f"127.0.0.1:{service.port}", tmp_path)
    try:
        service.wait_ready()
        prometheus.wait_http(f"{prometheus.url}/-/ready", 30)
        wait_for(prometheus, f"docexit_certified_epsilon == {epsilon}", 20)
        client = Client(service.url)

        # The default policy: 3 pages read by Tesseract (the shadow reads the whole page of
        # those the top band decided), then every page with its own words.
        for page in pages[:3]:
            client.classify(page, own_words=False)
        for page in pages:
            client.classify(page, own_words=True)
        default_pairs = client.sent
        default_loss = settle(prometheus, default_pairs)
        quiet = prometheus.query(alert_expr(default_pairs))

        r = client.http.put("/admin/v1/policy", headers=AUTH, json={"policy": BAD})
        assert r.status_code == 200, r.text
        # 2 pages the shadow must OCR whole (the request never read them), then words.
        exits = {client.classify(page, own_words=False)["exit"]["name"] for page in pages[3:5]}
        exits |= {client.classify(page, own_words=True)["exit"]["name"] for page in pages}
        bad_loss = settle(prometheus, client.sent)
        firing = prometheus.query(alert_expr(default_pairs))
        per_exit = prometheus.query("job_exit:docexit_shadow_disagreement:ratio_rate1h")
        view = client.shadow()
        log.warning(
            "shadow acceptance: ε=%g, default policy %.4f on %d pairs, bad threshold %.4f on "
            "%d pairs; per exit %s",
            epsilon,
            default_loss,
            default_pairs,
            bad_loss,
            client.sent,
            {s["metric"]["exit"]: s["value"][1] for s in per_exit},
        )
    finally:
        prometheus.stop()
        service.stop()

    assert default_loss < epsilon, f"default policy: loss estimate {default_loss} ≥ ε {epsilon}"
    assert quiet == [], quiet
    assert bad_loss > epsilon, f"bad threshold: loss estimate {bad_loss} ≤ ε {epsilon}"
    assert [s["metric"] for s in firing] == [{"job": "docexit"}], firing
    assert exits == {"emb.vision_avg"}
    vision = next(s for s in per_exit if s["metric"]["exit"] == "emb.vision_avg")
    assert float(vision["value"][1]) > epsilon
    # every request made a pair, and each shadow trace gave its live answer under its policy
    assert view["pairs"] == client.sent and sum(view["dropped"].values()) == 0
    assert view["unreproduced"] == 0
    assert view["loss_estimate"] == pytest.approx(bad_loss, rel=1e-6)
