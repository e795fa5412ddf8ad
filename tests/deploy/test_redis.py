"""Redis as deployed, run for real: deploy/redis (the ACL users, start.sh, healthcheck.sh), the
files docker-compose.yml mounts and the Kubernetes ConfigMap holds (test_k8s.py checks both
point at them). The default user gets nothing, the docexit user exactly what the service sends,
on docexit:* keys and channels only; and the service itself, configured as the manifests
configure it, runs its whole Redis workflow without one ACL denial. Needs redis-server and
redis-cli (`make sysdeps`)."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from PIL import Image, ImageDraw
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.deploy.promql import ROOT
from tests.processes import Process, free_port

REDIS_DIR = ROOT / "deploy" / "redis"
SHIPPED = ROOT / "models" / "checkpoints" / "default"
PASSWORD = "docexit-redis-password-for-tests-0123456789"
SIGNING_KEY = "docexit-signing-key-for-tests-0123456789abc"
TOKEN = "docexit-admin-token-for-tests-0123456789"
# A user the tests look through (ACL LOG, keys): appended to a copy, never shipped.
INSPECTOR = "inspector-password-for-tests-0123456789"
pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("redis-cli") is None,
    reason="redis-server not installed (make sysdeps)",
)


class AclRedis:
    """redis-server started by the shipped start.sh, with the shipped users (+ the inspector)."""

    def __init__(self, tmp: Path, tls: Path | None = None) -> None:
        folder = tmp / "redis"
        shutil.copytree(REDIS_DIR, folder)
        with (folder / "users.acl").open("a") as acl:
            acl.write(f"user inspector on >{INSPECTOR} ~* &* +@all\n")
        self.port = free_port()
        self.log = (tmp / "redis.log").open("w")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if tls is not None:  # as deploy/README.md says: TLS only, no plain port
            args[:2] = ["--port", "0", "--tls-port", str(self.port)]
            args += [
                "--tls-cert-file",
                str(tls / "tls.crt"),
                "--tls-key-file",
                str(tls / "tls.key"),
            ]
            args += ["--tls-ca-cert-file", str(tls / "ca.crt"), "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(
            ["sh", str(folder / "start.sh"), *args],
            env={**os.environ, "REDIS_PASSWORD": PASSWORD},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(250):
            assert self.proc.poll() is None, f"redis exited: see {self.log.name}"
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        else:
            raise AssertionError("redis-server did not start")
        self.url = f"redis://docexit:{PASSWORD}@127.0.0.1:{self.port}/0"

    def client(self, username: str | None = "docexit", password: str | None = PASSWORD) -> Any:
        return redis.Redis(
            port=self.port,
            username=username,
            password=password,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),  # a refusal is the answer: no retrying it
        )

    def inspector(self) -> Any:
        return self.client("inspector", INSPECTOR)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    r = AclRedis(tmp_path_factory.mktemp("acl"))
    try:
        yield r
    finally:
        r.stop()


def refused(call: Any, *args: Any) -> str:
    """The error Redis answers `call(*args)` with (the test fails if it does the command)."""
    with pytest.raises(redis.RedisError) as caught:
        call(*args)
    return str(caught.value)


@pytest.mark.parametrize(
    "password",
    [None, "", "short-0123456789", "has@an-at-sign-0123456789abcdef", "has a space 0123456789abc"],
)
def test_start_refuses_a_password_it_cannot_use(password: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_PASSWORD"}
    if password is not None:
        env["REDIS_PASSWORD"] = password
    # run() kills it on the timeout: a Redis that started anyway fails the test, not the run
    done = subprocess.run(
        ["sh", str(REDIS_DIR / "start.sh"), "--port", str(free_port()), "--bind", "127.0.0.1"],
        env=env, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert done.returncode != 0
    assert "REDIS_PASSWORD" in done.stderr


def test_without_the_docexit_password_redis_answers_nothing(server: AclRedis) -> None:
    # a client that does not authenticate (plain RESP, as a scanner or `redis-cli` would send)
    with socket.create_connection(("127.0.0.1", server.port), 2) as s:
        s.sendall(b"PING\r\nGET docexit:config\r\nHELLO 3\r\n")
        time.sleep(0.2)
        answers = s.recv(4096).decode().splitlines()
    assert answers[0].startswith("-NOAUTH") and answers[1].startswith("-NOAUTH")
    assert answers[2].startswith("-NOAUTH")
    assert "authenticated" in refused(server.client(None, None).ping)  # redis-py: HELLO 3
    for username in ("default", "docexit"):
        error = refused(server.client(username, "not-the-password-0123456789").ping)
        assert "WRONGPASS" in error or "invalid username-password" in error
    flags = server.inspector().acl_getuser("default")["flags"]
    assert "off" in flags and "on" not in flags


def test_the_docexit_user_runs_the_service_commands_on_docexit_keys_only(
    server: AclRedis,
) -> None:
    r = server.client()
    assert r.ping() is True
    # config, OCR cache, audit, a transaction, pub/sub: as service/redis_store.py, ocr_cache.py
    assert r.set("docexit:test:ocr", "words", ex=60) and r.get("docexit:test:ocr") == "words"
    assert r.lpush("docexit:test:audit", "a", "b") == 2 and r.ltrim("docexit:test:audit", 0, 0)
    assert r.lrange("docexit:test:audit", 0, -1) == ["b"]
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("docexit:test:config")
        pipe.get("docexit:test:config")
        pipe.multi()
        pipe.set("docexit:test:config", "v1")
        pipe.publish("docexit:test:changed", "v1")
        assert pipe.execute() == [True, 0]
    pubsub = r.pubsub()
    pubsub.subscribe("docexit:config:changed")
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    pubsub.unsubscribe()
    pubsub.close()
    assert r.delete("docexit:test:ocr", "docexit:test:audit", "docexit:test:config") == 3
    # nothing outside docexit:
    for call, args in [
        (r.get, ["other"]), (r.set, ["other", "1"]), (r.delete, ["other"]),
        (r.lpush, ["other", "1"]), (r.publish, ["other", "1"]),
    ]:  # fmt: skip
        assert "permissions" in refused(call, *args), (call, args)
    with pytest.raises(redis.RedisError, match="permissions"):
        p = r.pubsub()
        p.subscribe("other")
        p.get_message(timeout=1)
    # no administration, no scripts, no looking around
    for command in [
        "FLUSHALL", "FLUSHDB", "KEYS *", "SCAN 0", "RANDOMKEY", "CONFIG GET *",
        "CONFIG SET appendonly no", "EVAL return 1 0", "FUNCTION LIST", "SCRIPT FLUSH",
        "ACL LIST", "ACL SETUSER docexit +@all", "ACL LOG", "CLIENT LIST", "CLIENT KILL ID 1",
        "INFO", "SHUTDOWN", "SAVE", "BGREWRITEAOF", "REPLICAOF NO ONE", "SWAPDB 0 1",
        "MODULE LIST", "MONITOR", "SLOWLOG GET", "MIGRATE x 1 docexit:a 0 1",
    ]:  # fmt: skip
        error = refused(r.execute_command, *command.split())
        assert "permissions" in error, f"{command}: {error}"


# Each Redis client method the service calls -> the command it sends (arguments for ACL DRYRUN);
# methods that send none. A method in neither fails the test below: add it, and to the ACL if
# Redis refuses it.
COMMANDS = {
    "get": ["GET", "docexit:k"],
    "set": ["SET", "docexit:k", "v", "EX", "60"],
    "delete": ["DEL", "docexit:k"],
    "lpush": ["LPUSH", "docexit:k", "v"],
    "ltrim": ["LTRIM", "docexit:k", "0", "1"],
    "lrange": ["LRANGE", "docexit:k", "0", "1"],
    "publish": ["PUBLISH", "docexit:config:changed", "v"],
    "subscribe": ["SUBSCRIBE", "docexit:config:changed"],
    "unsubscribe": ["UNSUBSCRIBE", "docexit:config:changed"],
    "watch": ["WATCH", "docexit:k"],
    "unwatch": ["UNWATCH"],
    "multi": ["MULTI"],
    "execute": ["EXEC"],
    "reset": ["UNWATCH"],  # a pipeline's reset unwatches
    "ping": ["PING"],
    "expire": ["EXPIRE", "docexit:k", "60"],
    "incr": ["INCR", "docexit:k"],
    "exists": ["EXISTS", "docexit:k"],
}
NO_COMMAND = {"pipeline", "pubsub", "get_message", "aclose", "close", "from_url", "listen"}
CALL = re.compile(r"\b(?:_redis|redis_client|client|pipe|pubsub)\.(\w+)\(")


def test_the_acl_allows_every_redis_command_the_service_sends(server: AclRedis) -> None:
    sources = [p for p in (ROOT / "service").rglob("*.py") if "redis" in p.read_text()]
    assert sources
    called = {m for p in sources for m in CALL.findall(p.read_text())}
    assert {"get", "set", "watch", "publish", "subscribe", "lpush"} <= called  # the scan works
    unknown = called - set(COMMANDS) - NO_COMMAND
    assert not unknown, f"the service calls Redis methods this test does not know: {unknown}"
    inspector = server.inspector()
    for method in sorted(called & set(COMMANDS)):
        verdict = inspector.execute_command("ACL", "DRYRUN", "docexit", *COMMANDS[method])
        assert verdict == "OK", f"{method}: {verdict} (deploy/redis/users.acl)"
    # the client's own connection set-up: HELLO, CLIENT SETINFO / SETNAME
    for command in (["HELLO", "3"], ["CLIENT", "SETNAME", "docexit"]):
        assert inspector.execute_command("ACL", "DRYRUN", "docexit", *command) == "OK"


def test_the_healthcheck_passes_only_for_the_docexit_password(server: AclRedis) -> None:
    def check(password: str, port: int) -> int:
        return subprocess.run(
            ["sh", str(REDIS_DIR / "healthcheck.sh"), "-p", str(port)],
            env={**os.environ, "REDIS_PASSWORD": password}, capture_output=True, timeout=10,
        ).returncode  # fmt: skip

    assert check(PASSWORD, server.port) == 0
    assert check("not-the-password-0123456789", server.port) != 0
    assert check(PASSWORD, free_port()) != 0  # nothing listening
    # a bare `redis-cli ping`, the old check, "passes" against this Redis: why the script exists
    bare = subprocess.run(
        ["redis-cli", "-p", str(server.port), "ping"], capture_output=True, text=True, timeout=10
    )
    assert bare.returncode == 0 and "NOAUTH" in bare.stdout


def certificates(folder: Path) -> Path:
    """A CA and a certificate for docexit-redis (and localhost) signed by it, as cert-manager
    would issue into a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    subj = ["-nodes", "-newkey", "rsa:2048", "-subj"]
    openssl("req", "-x509", *subj, "/CN=docexit test CA", "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", *subj, "/CN=docexit-redis", "-keyout", "tls.key", "-out", "tls.csr")
    (folder / "san").write_text("subjectAltName=DNS:docexit-redis,DNS:localhost\n")
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san", "-out", "tls.crt")  # fmt: skip
    return folder


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_tls_as_the_readme_describes(tmp_path: Path) -> None:
    """rediss:// with the CA in the URL; the health check with --tls; plain TCP refused."""
    tls = certificates(tmp_path)
    r = AclRedis(tmp_path, tls=tls)
    try:
        url = f"rediss://docexit:{PASSWORD}@localhost:{r.port}/0?ssl_ca_certs={tls / 'ca.crt'}"
        client = redis.Redis.from_url(url, socket_timeout=2)
        assert client.ping() and client.set("docexit:tls", "1")  # certificate and name checked
        client.close()
        plain = redis.Redis.from_url(r.url, socket_timeout=2, retry=Retry(NoBackoff(), 0))
        with pytest.raises(redis.ConnectionError):
            plain.ping()
        no_ca = url.split("?")[0]  # the system CAs do not know this one
        with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            redis.Redis.from_url(no_ca, socket_timeout=2, retry=Retry(NoBackoff(), 0)).ping()
        health = ["sh", str(REDIS_DIR / "healthcheck.sh"), "-p", str(r.port)]
        env = {**os.environ, "REDIS_PASSWORD": PASSWORD}
        tls_args = ["--tls", "--cacert", str(tls / "ca.crt")]
        assert subprocess.run([*health, *tls_args], env=env, timeout=10).returncode == 0
        assert subprocess.run(health, env=env, capture_output=True, timeout=10).returncode != 0
    finally:
        r.stop()


def page_png() -> bytes:
    image = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(["INVOICE No 20931", "Bill to ACME Corporation", "Total 1,250.00"]):
        draw.text((60, 60 + 60 * row), line, fill=0, font_size=28)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
@pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint")
def test_the_service_runs_its_redis_workflow_under_the_shipped_acl(
    tmp_path: Path,
) -> None:
    """The service configured as the manifests configure it (DOCEXIT_REDIS_URL with the docexit
    user's password, DOCEXIT_CONFIG_SIGNING_KEY): start-up, an admin change and its audit, a
    page OCR'd into the cache and read back; Redis logs no ACL denial, and what the service
    stored is signed."""
    r = AclRedis(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DOCEXIT_CHECKPOINT": str(SHIPPED),
        "DOCEXIT_REDIS_URL": r.url,
        "DOCEXIT_CONFIG_SIGNING_KEY": SIGNING_KEY,
        "DOCEXIT_ADMIN_TOKEN": TOKEN,
        "DOCEXIT_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "DOCEXIT_LATENCY_BUDGET_MS"):
        env.pop(name, None)
    service = Process([sys.executable, "-m", "service"], env, tmp_path / "docexit.log")
    try:
        url = f"http://127.0.0.1:{port}"
        service.wait_http(f"{url}/readyz", 180)
        admin = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, timeout=60) as http:
            put = http.put(
                "/admin/v1/latency-budget", headers=admin, json={"latency_budget_ms": 900}
            )
            assert put.status_code == 200, put.text
            audit = http.get("/admin/v1/audit", headers=admin)
            assert audit.status_code == 200 and len(audit.json()) == 1, audit.text
            for _ in range(2):  # OCR'd and cached, then read from the cache
                files = {"file": ("page.png", page_png(), "image/png")}
                done = http.post("/v1/classify", files=files, data={"full_depth": "true"})
                assert done.status_code == 200, done.text
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text
        inspector = r.inspector()
        denials = [e for e in inspector.acl_log() if e.get("username") == "docexit"]
        assert not denials, f"Redis refused the service: {denials}"
        keys = set(inspector.scan_iter("*"))
        assert keys and all(k.startswith("docexit:") for k in keys), keys
        assert {"docexit:config", "docexit:config:audit"} <= keys
        ocr = [k for k in keys if k.startswith("docexit:ocr:")]
        assert ocr, f"no OCR cache entry written: {keys}"
        for key in ["docexit:config", *ocr]:  # HMAC envelopes, not bare values
            assert '"mac"' in inspector.get(key), key
    finally:
        service.stop()
        r.stop()
