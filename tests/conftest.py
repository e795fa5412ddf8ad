"""A small generated corpus shared by the corpus tests (one generation per test session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from models.data.synth import generate

PER_CLASS = 8  # 6 train, 1 val, 1 test per class


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate(out, PER_CLASS, seed=11, workers=2, progress=False)
    return out


@pytest.fixture(scope="session")
def records(corpus: Path) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text())
        for p in sorted(corpus.glob("*/*/*.json"))
        if ".ocr-" not in p.name
    ]
