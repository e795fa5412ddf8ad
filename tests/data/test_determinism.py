"""Same seed, same bytes: across worker counts and across processes with other hash seeds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.data.synth import page_seed, split_sizes

ROOT = Path(__file__).resolve().parents[2]


def _run(out: Path, seed: int, workers: int, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "models.data.synth",
        "--out",
        str(out),
        "--per-class",
        "3",
        "--seed",
        str(seed),
        "--workers",
        str(workers),
    ]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for split in ("train", "val", "test")
        for p in sorted((root / split).rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    _run(tmp_path / "a", seed=5, workers=2, hash_seed="1")
    _run(tmp_path / "b", seed=5, workers=1, hash_seed="2")
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert len(a) == 16 * 3 * 2  # a PNG and a JSON per page
    assert a == b


def test_other_seed_gives_other_pages(tmp_path: Path) -> None:
    _run(tmp_path / "a", seed=5, workers=2, hash_seed="1")
    _run(tmp_path / "c", seed=6, workers=2, hash_seed="1")
    a, c = _hashes(tmp_path / "a"), _hashes(tmp_path / "c")
    assert a.keys() == c.keys()
    assert sum(a[k] != c[k] for k in a) == len(a)


def test_page_seed_is_stable_and_distinct() -> None:
    assert page_seed(0, "letter", 0) == page_seed(0, "letter", 0)
    seeds = {
        page_seed(s, label, i) for s in range(3) for label in ("letter", "memo") for i in range(50)
    }
    assert len(seeds) == 3 * 2 * 50


@pytest.mark.parametrize(
    ("n", "ratios", "expected"),
    [
        (10, (0.8, 0.1, 0.1), {"train": 8, "val": 1, "test": 1}),
        (3, (0.8, 0.1, 0.1), {"train": 1, "val": 1, "test": 1}),
        (400, (0.8, 0.1, 0.1), {"train": 320, "val": 40, "test": 40}),
        (100, (0.6, 0.2, 0.2), {"train": 60, "val": 20, "test": 20}),
        (2, (0.8, 0.1, 0.1), {"train": 2, "val": 0, "test": 0}),
    ],
)
def test_split_sizes(n: int, ratios: tuple[float, float, float], expected: dict[str, int]) -> None:
    assert split_sizes(n, ratios) == expected
