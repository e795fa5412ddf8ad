"""The Grafana dashboard and its provisioning, read statically; tests/deploy/test_live_metrics.py
runs every query against a real Prometheus scraping a real service."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.metrics_core import Metric

from service.metrics import Metrics
from tests.deploy.promql import (
    DASHBOARDS,
    ROOT,
    alert_exprs,
    dashboard,
    dashboard_exprs,
    panels,
    recording_exprs,
    variable_queries,
)

GRAFANA = ROOT / "deploy" / "grafana"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
DOCEXIT = re.compile(r"\b(?:[a-z_]+:)?docexit_[a-z_]+(?::[a-z0-9_]+)?\b")


def exported_series() -> set[str]:
    """Every series name the service's collectors can write (from the real registry)."""
    families: list[Metric] = list(Metrics(num_layers=6).registry.collect())
    return {f.name + suffix for f in families for suffix in SUFFIXES[f.type]}


def recorded_series() -> set[str]:
    return {e.where.split(": ", 1)[1].split("{")[0] for e in recording_exprs()}


def test_every_query_reads_series_the_service_exports_or_the_rules_record() -> None:
    known = exported_series() | recorded_series()
    exprs = [*dashboard_exprs(), *recording_exprs(), *alert_exprs()]
    assert exprs
    for expr in exprs:
        for name in DOCEXIT.findall(expr.promql):
            assert name in known, f"{expr.where}: no such series {name}"
    for where, metric, _ in variable_queries():
        assert metric in known, f"{where}: no such series {metric}"


def test_the_dashboard_shows_what_operators_asked_for() -> None:
    (path,) = DASHBOARDS
    dash = dashboard(path)
    assert dash["title"] == "docexit — adaptive exits" and dash["uid"]
    by_title = {p["title"]: p for p in panels(dash)}
    text = {t: " ".join(x["expr"] for x in p.get("targets", [])) for t, p in by_title.items()}
    exits = text["Exit rate per layer and stage"]
    assert "job_stage_layer:docexit_exits:rate5m" in exits
    stacked = by_title["Exit rate per layer and stage"]["fieldConfig"]["defaults"]["custom"]
    assert stacked["stacking"]["mode"] == "normal"
    assert by_title["Exit depth"]["type"] == "heatmap"
    assert by_title["Exit depth"]["targets"][0]["format"] == "heatmap"
    assert "docexit_ocr_skipped" in text["OCR-skip rate vs operating point"]
    latency = text["Latency: $stage"]
    assert all(f"histogram_quantile({q}," in latency for q in ("0.5", "0.95", "0.99"))
    assert "docexit_latency_budget_seconds" in latency
    assert by_title["Latency: $stage"]["repeat"] == "stage"
    assert "docexit_deadline_hit_total" in text["Deadline hits"]
    assert "by (status)" in text["Throughput and errors by status"]
    assert "docexit_inflight_requests" in text["In-flight requests and queue"]
    assert "docexit_queue_depth" in text["In-flight requests and queue"]
    assert "docexit_exit_threshold" in text["Exit thresholds in force"]
    # Redis holding what no replica signed: refused configs by reason, refused OCR entries
    assert "by (reason)" in text["Runtime configs refused"]
    assert "docexit_config_rejected_total" in text["Runtime configs refused"]
    assert "docexit_ocr_cache_rejected_total" in text["OCR cache entries refused"]
    # what early exits cost on live traffic: the shadow loss estimate against ε, and per exit
    loss = text["Shadow loss estimate vs ε"]
    assert "job:docexit_shadow_disagreement:ratio_rate1h" in loss
    assert "job_exit:docexit_shadow_disagreement:ratio_rate1h" in loss
    assert "docexit_certified_epsilon" in loss
    assert "by (reason)" in text["Shadow pairs and drops"]
    (admin,) = [a for a in dash["annotations"]["list"] if a["name"] == "Admin changes"]
    assert "changes(docexit_config_version" in admin["expr"]


def test_every_query_uses_the_datasource_variable_and_panels_do_not_overlap() -> None:
    for path in DASHBOARDS:
        dash = dashboard(path)
        taken: set[tuple[int, int]] = set()
        ids = [p["id"] for p in panels(dash)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels(dash):
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            g = panel["gridPos"]
            xs, ys = range(g["x"], g["x"] + g["w"]), range(g["y"], g["y"] + g["h"])
            cells = {(x, y) for x in xs for y in ys}
            assert not cells & taken, f"{path.name}: {panel['title']!r} overlaps another panel"
            assert g["x"] + g["w"] <= 24  # Grafana's grid is 24 wide
            taken |= cells


def test_compose_provisions_the_datasource_and_the_dashboards_grafana_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    binds = [v.removesuffix(":ro").split(":") for v in grafana["volumes"] if v.startswith(".")]
    mounts = dict(binds)
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/docexit.yml").read_text())
    (provider,) = providers["providers"]
    dashboards_dir = provider["options"]["path"]
    assert mounts["./deploy/grafana/dashboards"] == dashboards_dir
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent == Path(dashboards_dir)
    assert (GRAFANA / "dashboards" / Path(home).name).is_file()
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]
