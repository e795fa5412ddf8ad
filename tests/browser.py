"""A real headless Chromium (Debian's `chromium`) for end-to-end tests, driven over the DevTools
protocol with websocket-client (already in the dev lock): open a page, record every request the
page makes, evaluate JavaScript, and save a screenshot."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websocket

from loadtests.servers import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    def __init__(self, profile: Path, log: Path) -> None:
        assert CHROMIUM is not None, "chromium is not installed"
        self.port, self.log = free_port(), log.open("w")
        args = [
            CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--window-size=1280,1000",
            f"--remote-debugging-port={self.port}", f"--user-data-dir={profile}", "about:blank",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        self.ws = websocket.create_connection(self._page_socket(), timeout=60)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.send("Network.enable")
        self.send("Page.enable")
        self.send("Runtime.enable")

    def _page_socket(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"chromium exited: see {self.log.name}"
            try:
                targets = httpx.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                pages = [t for t in targets if t["type"] == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("chromium's DevTools endpoint did not come up")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; events that arrive meanwhile are kept in self.events."""
        sent = next(self.ids)
        self.ws.send(json.dumps({"id": sent, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == sent:
                assert "error" not in message, message
                return dict(message.get("result", {}))
            self.events.append(message)

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout_s: float = 60) -> Any:
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"never true: {expression}")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def requested(self) -> list[str]:
        """Every URL the page asked for so far (documents, scripts, styles, images, XHR)."""
        self.evaluate("1")  # drain events that arrived since the last command
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()


def foreign(requested: list[str], origin: str) -> list[str]:
    """Requests to anything but the service (data: and blob: URLs stay in the page)."""
    own = urlsplit(origin).netloc
    return [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and urlsplit(u).netloc != own]  # fmt: skip
