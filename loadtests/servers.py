"""The servers under test, each its own process on a free port: `python -m service` (docexit;
variants a and b) and `python -m loadtests.baseline_app` (variant c), with the same worker
count. Started one after another (their start-up is CPU-bound) and stopped by their own pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "models" / "checkpoints" / "default"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """Resident memory of a process now (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Server:
    """One server process; `url` is its base URL once started."""

    def __init__(self, name: str, module: str, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        # Every DOCEXIT_* setting at its default unless given here: no Redis (no OCR cache, so
        # every page is really OCR'd), no default budget, the card's policy, Tesseract.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("DOCEXIT_")
            and k not in ("PROMETHEUS_MULTIPROC_DIR", "UVICORN_WORKERS", "BASELINE_WORKERS")
        }
        full = {**inherited, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        full.setdefault("LOG_LEVEL", "WARNING")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], env=full, cwd=ROOT, stdout=self._log, stderr=self._log
        )

    def wait_ready(self, timeout_s: float = 300.0) -> float:
        """Seconds until /readyz answered 200; raises with the log's tail if it never does."""
        start = time.monotonic()
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while time.monotonic() - start < timeout_s:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.tail()}")
                try:
                    if http.get("/readyz").status_code == 200:
                        return time.monotonic() - start
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s: {self.tail()}")

    def tail(self, chars: int = 2000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def docexit(
    workers: int,
    queue_size: int,
    admin_token: str,
    log_dir: Path,
    name: str = "docexit",
    extra: dict[str, str] | None = None,
) -> Server:
    env = {
        "DOCEXIT_CHECKPOINT": str(CHECKPOINT),
        "DOCEXIT_DEVICE": "cpu",
        "DOCEXIT_WORKERS": str(workers),
        "DOCEXIT_QUEUE_SIZE": str(queue_size),
        "DOCEXIT_ADMIN_TOKEN": admin_token,
        **(extra or {}),
    }
    return Server(name, "service", env, log_dir)


def baseline(workers: int, log_dir: Path) -> Server:
    env = {"DOCEXIT_CHECKPOINT": str(CHECKPOINT), "BASELINE_WORKERS": str(workers)}
    return Server("baseline", "loadtests.baseline_app", env, log_dir)
