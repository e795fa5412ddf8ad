"""The installed torch, transformers and tokenizers are the releases the checkpoints record."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from models import checkpoint
from models.checkpoint import LIBRARIES, library_differences, read_card, save_checkpoint
from models.multiexit import MultiExitLayoutLMv3

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "checkpoints" / "default"


def test_the_shipped_checkpoint_runs_on_the_releases_it_records() -> None:
    """Fails when the lock (or a hand install) brings a release the shipped card does not
    record: re-check the checkpoint's answers on the new release, then record it
    (read_card(folder).updated(libraries=library_versions()).write(folder))."""
    card = read_card(SHIPPED)
    assert set(card.libraries) == set(LIBRARIES)
    assert library_differences(card.libraries) == []


def test_a_new_checkpoint_records_the_installed_releases(
    tmp_path: Path, model: MultiExitLayoutLMv3
) -> None:
    card = save_checkpoint(model, tmp_path)
    assert card.libraries == checkpoint.library_versions()
    assert library_differences(read_card(tmp_path).libraries) == []


def test_each_differing_release_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = {"torch": "2.13.0+cpu", "transformers": "5.24.0", "tokenizers": "0.23.3"}
    monkeypatch.setattr(checkpoint, "library_versions", lambda: installed)
    same_release_other_build = {**installed, "torch": "2.13.0+cu128"}
    assert library_differences(same_release_other_build) == []
    (only,) = library_differences({**installed, "transformers": "5.23.0"})
    assert "transformers 5.24.0 is installed" in only and "made with 5.23.0" in only
    older = {"torch": "2.12.1", "transformers": "5.23.0", "tokenizers": "0.23.3"}
    assert [d.split()[0] for d in library_differences(older)] == [
        "torch",
        "transformers",
    ]
    (unrecorded,) = library_differences({})
    assert "records no library versions" in unrecorded


def test_the_service_warns_about_a_differing_release_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A warning rather than a refusal (see service.engine.Engine.load); this suite is the
    hard check for the locked environment."""
    from service.engine import Engine
    from tests.service.conftest import FakeOcr, make_settings

    folder = tmp_path / "ckpt"
    shutil.copytree(SHIPPED, folder)
    read_card(folder).updated(libraries={**read_card(SHIPPED).libraries, "torch": "1.0"}).write(
        folder
    )
    with caplog.at_level(logging.WARNING, logger="docexit"):
        engine = Engine.load(make_settings(folder), FakeOcr())
    engine.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("torch" in w and "made with 1.0" in w for w in warnings), warnings
