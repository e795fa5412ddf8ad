"""The locks (requirements/*.txt, written by `make lock`) pin everything pyproject.toml asks
for, exactly and with hashes, agree with each other, and are what this venv has installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Each lock and the extras it installs (requirements/uv.txt locks only the resolver).
LOCKS = {
    "dev.txt": ("dev", "bench", "corpus"),
    "runtime-cpu.txt": (),
    "runtime-cuda.txt": (),
    "rapidocr.txt": ("rapidocr",),
    "paddle.txt": ("dev", "paddle"),
}
# Where the CUDA image may differ from the CPU one: torch's build and what only it brings.
CUDA_ONLY = re.compile(r"^(nvidia-.*|cuda-.*|triton)$")
PIN = re.compile(r"^([A-Za-z0-9._-]+(?:\[[^\]]*\])?)==(\S+)")


def read_lock(name: str) -> dict[str, tuple[Version, int]]:
    """Package -> (pinned version, number of hashes) for one lock file."""
    text = (ROOT / "requirements" / name).read_text()
    pins: dict[str, tuple[Version, int]] = {}
    for entry in re.split(r"\n(?=\S)", text):
        if entry.startswith("#") or not entry.strip():
            continue
        found = PIN.match(entry)
        assert found, f"{name}: not an exact pin: {entry.splitlines()[0]}"
        package = canonicalize_name(found[1].split("[")[0])
        pins[package] = (Version(found[2]), entry.count("--hash=sha256:"))
    return pins


def requirements(extras: tuple[str, ...]) -> list[Requirement]:
    listed = [*PYPROJECT["dependencies"]]
    for extra in extras:
        listed += PYPROJECT["optional-dependencies"][extra]
    return [Requirement(r) for r in listed]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_a_lock_pins_every_requirement_exactly_with_hashes(lock: str) -> None:
    pins = read_lock(lock)
    assert all(hashes for _, hashes in pins.values()), "every pin carries its sha256 hashes"
    assert {"pip", "setuptools", "torch"} <= set(pins)  # installers and the build backend too
    for requirement in requirements(LOCKS[lock]):
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} lacks {requirement}: run `make lock`"
        version, _ = pins[name]
        # torch's local label (+cpu) names the build; the release is what pyproject pins.
        assert requirement.specifier.contains(Version(version.public), prereleases=True), (
            f"{lock} pins {name}=={version}, pyproject.toml asks for {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("lock", ["runtime-cpu.txt", "rapidocr.txt", "runtime-cuda.txt"])
def test_the_image_and_extra_locks_run_the_versions_the_tests_ran(lock: str) -> None:
    dev = read_lock("dev.txt")
    for name, (version, _) in read_lock(lock).items():
        if name in dev and not CUDA_ONLY.match(name):
            tested = dev[name][0]
            same = version.public == tested.public if name == "torch" else version == tested
            assert same, f"{lock} pins {name}=={version}, the tests run {tested}"
        else:
            assert lock != "runtime-cpu.txt", f"the CPU image has {name}, the tests do not"
            if lock == "runtime-cuda.txt":
                assert CUDA_ONLY.match(name), f"only CUDA packages are the CUDA image's own: {name}"


def test_the_cpu_image_and_the_tests_take_the_cpu_build_of_torch() -> None:
    assert read_lock("dev.txt")["torch"][0].local == "cpu"
    assert read_lock("runtime-cpu.txt")["torch"][0].local == "cpu"
    assert read_lock("runtime-cuda.txt")["torch"][0].local is None  # PyPI's CUDA build


def test_this_venv_is_exactly_the_dev_lock() -> None:
    """What `pip freeze` would show against requirements/dev.txt: every locked package at its
    pinned version, and nothing else but the project itself."""
    installed = {
        canonicalize_name(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()
    }
    pins = {name: version for name, (version, _) in read_lock("dev.txt").items()}
    wrong = {n: (str(installed.get(n)), str(v)) for n, v in pins.items() if installed.get(n) != v}
    assert wrong == {}, f"installed vs locked: {wrong}; `make venv` reinstalls the lock"
    assert set(installed) - set(pins) == {"docexit"}
