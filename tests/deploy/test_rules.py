"""Prometheus config and rules: promtool's checks and unit tests, and what promtool cannot
know (naming conventions, every alert tested both ways, the operating point matching the card).
`make test` installs promtool (Debian package prometheus) through `make sysdeps-test`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.promql import ROOT, RULE_FILES, rules

PROM = ROOT / "deploy" / "prometheus"
UNIT_TESTS = sorted((PROM / "tests").glob("*.test.yml"))
CARD = ROOT / "models" / "checkpoints" / "default" / "card.json"
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (make sysdeps-test)"
)


def promtool(*args: str) -> str:
    done = subprocess.run(["promtool", *args], cwd=PROM, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_the_config_and_the_rules() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert f"{len(RULE_FILES)} rule files found" in out  # the config really loads them
    promtool("check", "rules", *(str(p.relative_to(PROM)) for p in RULE_FILES))


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    assert UNIT_TESTS
    out = promtool("test", "rules", *(str(p.relative_to(PROM)) for p in UNIT_TESTS))
    assert "SUCCESS" in out


def test_every_alert_is_tested_firing_and_quiet() -> None:
    alerts = {rule["alert"] for _, rule in rules() if "alert" in rule}
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in UNIT_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert alerts == firing, f"never seen firing: {alerts - firing}"
    assert alerts == quiet, f"never seen quiet: {alerts - quiet}"


def test_rules_follow_the_prometheus_naming_conventions() -> None:
    for path, rule in rules():
        if "record" in rule:
            # level:metric:operations, https://prometheus.io/docs/practices/rules/
            level, metric, ops = rule["record"].split(":")
            assert level and ops and metric.startswith("docexit_"), rule["record"]
            assert not metric.endswith("_total"), f"{rule['record']}: drop _total once rated"
        else:
            assert re.fullmatch(r"Docexit[A-Z][A-Za-z]+", rule["alert"]), rule["alert"]
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
            assert "for" in rule, f"{path.name}: {rule['alert']} would fire on one bad sample"


def test_the_operating_point_is_the_one_the_shipped_card_promises() -> None:
    card = json.loads(CARD.read_text())
    policy = card["policy"]  # the default policy the service serves without a budget
    point = next(p for p in card["operating_points"] if p["policy"] == policy)
    recorded = {r["record"]: r for _, r in rules() if r.get("record", "").startswith("operating")}
    expected = {
        "operating_point:docexit_ocr_skipped:ratio": point["ocr_skip_rate"],
        "operating_point:docexit_exit_layer:mean": point["mean_exit_layer"],
    }
    for name, value in expected.items():
        rule = recorded[name]
        assert rule["labels"]["policy"] == policy["name"]
        constant = re.fullmatch(r"vector\((.+)\)", rule["expr"].strip())
        assert constant, f"{name} is not a constant: {rule['expr']}"
        assert float(constant[1]) == pytest.approx(value, abs=1e-9), f"{name}: card says {value}"


def test_exits_per_layer_cover_every_layer_of_the_shipped_model() -> None:
    layers = json.loads(CARD.read_text())["config"]["num_layers"]
    per_layer = [
        rule["labels"]["layer"]
        for _, rule in rules()
        if rule.get("record") == "job_stage_layer:docexit_exits:rate5m"
    ]
    assert per_layer == [str(i) for i in range(layers + 1)]


def test_rules_are_files_prometheus_and_the_compose_stack_load() -> None:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    loaded = {p for pattern in config["rule_files"] for p in PROM.glob(pattern)}
    assert loaded == set(RULE_FILES)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in volumes
