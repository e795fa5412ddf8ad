"""Shared runner for the office converters: LibreOffice headless and Gnumeric's ssconvert.

LibreOffice starts slowly (about 2 s), so many documents go through one `soffice --convert-to
pdf` call. Each process gets its own LibreOffice profile (UserInstallation): two soffice runs
that share a profile talk to each other instead of converting, and the second one returns at
once with nothing written. A batch that overruns its timeout is killed with its whole process
group and split in halves, so one document that hangs costs only itself."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SOFFICE_CANDIDATES = ("soffice", "libreoffice")
SSCONVERT = "ssconvert"
SOFFICE_BASE_TIMEOUT = 60.0  # start-up, first-run profile creation included
SOFFICE_PER_DOC_TIMEOUT = 10.0
SSCONVERT_TIMEOUT = 30.0


class ConverterMissing(RuntimeError):
    """The converter binary is not installed (Debian packages: see the Makefile's
    CORPUS_SYS_PKGS, installed by `make sysdeps-corpus`)."""


class ConversionError(RuntimeError):
    """The converter ran but failed for every document of a batch or for a lone document."""


def soffice_binary() -> str:
    for name in SOFFICE_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ConverterMissing(
        "LibreOffice (soffice) not found: install libreoffice-writer-nogui and "
        "libreoffice-calc-nogui (`make sysdeps-corpus`)"
    )


def ssconvert_binary() -> str:
    path = shutil.which(SSCONVERT)
    if not path:
        raise ConverterMissing("ssconvert not found: install gnumeric (`make sysdeps-corpus`)")
    return path


_profiles: dict[int, Path] = {}
_soffice_lock = threading.Lock()  # one soffice per profile at a time, also across threads


def _profile() -> Path:
    """This process' LibreOffice profile, created on first use and removed at exit. Keyed by pid:
    a forked worker must not inherit its parent's profile."""
    pid = os.getpid()
    if pid not in _profiles:
        path = Path(tempfile.mkdtemp(prefix=f"docexit-lo-{pid}-"))
        _profiles[pid] = path
        atexit.register(shutil.rmtree, path, True)
    return _profiles[pid]


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run cmd in its own session so a timeout kills soffice.bin too, not only its launcher.
    Returns stderr+stdout for error messages; raises TimeoutError on overrun."""
    with subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TimeoutError(f"{cmd[0]} ran over {timeout:.0f} s") from None
    return out.decode("utf-8", "replace")


def soffice_to_pdf(sources: Sequence[Path], outdir: Path) -> list[Path | None]:
    """Convert office files to PDF in as few soffice runs as possible. Returns, per source, the
    PDF written into outdir or None where that document failed. Sources need distinct stems."""
    binary = soffice_binary()
    outdir.mkdir(parents=True, exist_ok=True)
    results: dict[Path, Path | None] = {}
    with _soffice_lock:
        _soffice_batches(binary, list(sources), outdir, results)
    missing = [s.name for s in sources if results.get(s) is None]
    if missing and len(missing) == len(sources):
        raise ConversionError(f"LibreOffice converted none of {len(sources)} documents")
    if missing:
        log.warning("LibreOffice failed on %d documents: %s", len(missing), missing[:5])
    return [results.get(s) for s in sources]


def _soffice_batches(
    binary: str, sources: list[Path], outdir: Path, results: dict[Path, Path | None]
) -> None:
    if not sources:
        return
    profile = _profile().as_uri()
    cmd = [binary, f"-env:UserInstallation={profile}", "--headless", "--norestore"]
    cmd += ["--nolockcheck", "--convert-to", "pdf", "--outdir", str(outdir)]
    cmd += [str(s) for s in sources]
    timeout = SOFFICE_BASE_TIMEOUT + SOFFICE_PER_DOC_TIMEOUT * len(sources)
    # Keep soffice's first-run wizard and java lookup quiet and off the user's real home.
    env = dict(os.environ, SAL_USE_VCLPLUGIN="svp")
    try:
        out = _run(cmd, timeout, env)
    except TimeoutError as err:
        if len(sources) == 1:
            log.warning("LibreOffice timed out on %s: %s", sources[0].name, err)
            results[sources[0]] = None
            return
        half = len(sources) // 2
        _soffice_batches(binary, sources[:half], outdir, results)
        _soffice_batches(binary, sources[half:], outdir, results)
        return
    for source in sources:
        pdf = outdir / f"{source.stem}.pdf"
        results[source] = pdf if pdf.is_file() and pdf.stat().st_size > 0 else None
    if all(results[s] is None for s in sources):
        log.warning("soffice wrote nothing; its output: %s", out[-2000:])


def ssconvert_to_pdf(source: Path, target: Path) -> Path:
    """Convert one workbook's first sheet with Gnumeric (it starts in ~0.1 s, so one run per
    file is cheap). Raises ConversionError when no PDF comes out."""
    binary = ssconvert_binary()
    # Gnumeric exports every sheet by default; -T picks the PDF exporter whatever the suffix.
    cmd = [binary, "-T", "Gnumeric_pdf:pdf_assistant", str(source), str(target)]
    try:
        out = _run(cmd, SSCONVERT_TIMEOUT)
    except TimeoutError as err:
        raise ConversionError(f"ssconvert timed out on {source.name}") from err
    if not target.is_file() or target.stat().st_size == 0:
        raise ConversionError(f"ssconvert wrote no PDF for {source.name}: {out[-1000:]}")
    return target
