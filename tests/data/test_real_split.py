"""Real training and validation pages come from different packages, not only different files:
a package's documents share authors, tools and house style, which would flatter validation."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "models" / "data"
# Both lists took other files of these two before packages were split; none may join them.
SHARED_BEFORE_THE_SPLIT = {"talon", "pikepdf"}


def _packages(name: str) -> set[str]:
    sources = json.loads((SOURCES / name).read_text())["sources"]
    return {entry["package"] for entry in sources}


def test_no_package_gives_pages_to_both_training_and_validation() -> None:
    shared = _packages("realdocs_sources.json") & _packages("realtrain_sources.json")
    assert shared <= SHARED_BEFORE_THE_SPLIT, sorted(shared - SHARED_BEFORE_THE_SPLIT)
