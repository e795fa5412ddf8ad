"""Real processes for end-to-end tests: a free port, and a child process with its own log that
a test can wait on over HTTP and stop (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from loadtests.servers import free_port, rss_bytes

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "checkpoints" / "default"
TOKEN = "s3cret-admin-token-for-tests"  # the same as tests.service.conftest.TOKEN
SIGNING_KEY = "signing-key-for-tests-shared-by-the-replicas"  # tests.service.conftest's too
UNINHERITED = ("PROMETHEUS_MULTIPROC_DIR", "DOCEXIT_REDIS_URL", "DOCEXIT_LATENCY_BUDGET_MS")


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self.log, stderr=self.log)

    def wait_http(self, url: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"exited: see {self.log.name}"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{url} not ready after {timeout_s} s: see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class RedisServer:
    """A real redis-server on a free port. persist_dir: append-only file there, so that a
    restart (stop, then start on the same port) keeps the data, as a production Redis does.
    password: as deployed, an ACL user `docexit` with it and the default user off; `url` then
    carries the credentials and `bare_url` does not."""

    def __init__(self, persist_dir: Path | None = None, password: str | None = None) -> None:
        self.port = free_port()
        self.bare_url = f"redis://127.0.0.1:{self.port}/0"
        self.url = self.bare_url
        if password is not None:
            self.url = f"redis://docexit:{password}@127.0.0.1:{self.port}/0"
        self.password = password
        self.persist_dir = persist_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.persist_dir is None:
            args += ["--appendonly", "no"]
        else:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
            args += ["--dir", str(self.persist_dir)]
        if self.password is not None:
            args += ["--user", "default", "off"]
            args += ["--user", "docexit", "on", f">{self.password}", "~docexit:*", "&*", "+@all"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self, graceful: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate() if graceful else self.proc.kill()
            self.proc.wait(10)


class ServiceProcess(Process):
    """One `python -m service` process on a free port, as `make serve` starts it, with the
    shipped checkpoint unless env says otherwise; env: extra DOCEXIT_* (or other) variables."""

    def __init__(self, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # What the caller's shell may have set that would change the service under test.
        inherited = {k: v for k, v in os.environ.items() if k not in UNINHERITED}
        full = {
            **inherited,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DOCEXIT_CHECKPOINT": str(SHIPPED),
            "DOCEXIT_ADMIN_TOKEN": TOKEN,
            "DOCEXIT_CONFIG_SIGNING_KEY": SIGNING_KEY,
            "DOCEXIT_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        super().__init__([sys.executable, "-m", "service"], full, log)
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def wait_ready(self, timeout_s: float = 180) -> None:
        self.wait_http(f"{self.url}/readyz", timeout_s)

    def classify(self, page: Path, **data: str) -> dict[str, Any]:
        files = {"file": (page.name, page.read_bytes(), "image/png")}
        r = self.http.post("/v1/classify", files=files, data=data)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def rss_bytes(self) -> int:
        return rss_bytes(self.proc.pid)

    def stop(self) -> None:
        self.http.close()
        super().stop()


@contextmanager
def replicas(folder: Path, **env: str) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two ServiceProcess replicas with the same env (logs a.log, b.log in folder), ready."""
    a, b = ServiceProcess(folder / "a.log", **env), ServiceProcess(folder / "b.log", **env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()
