"""PDFs are opened and rendered in worker processes, with a time limit and a memory limit.

PDFium's cost is not bounded by a PDF's size: a 25 KiB file of compressed drawing commands took
96 s to render here, and nested reused forms make the loading itself explode. In a worker
thread that would hold the thread and a core for minutes, and no deadline stops native code.
In a process it can be stopped: a PDF that takes longer than the limit answers 422 and its
process is killed and replaced; one that needs more memory than the limit answers 413.

The processes come from a fork server (not forked from the server itself: it is multi-threaded,
and a fork copies locks other threads hold), which has imported the decoder once, so replacing a
killed process costs milliseconds. One per worker thread, so PDFs do not queue behind each other,
started at warm-up; they run service.decode.decode itself: the limits and errors of images."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import resource
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from PIL import Image

from service.decode import Page, decode
from service.errors import ProblemError, undecodable

log = logging.getLogger("docexit.service.pdf")


def _serve(conn: Connection, memory_bytes: int) -> None:  # runs in the child process
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):
            return  # the server closed the pipe: exit with it
        try:
            page = decode(*args)
            image = page.image
            conn.send(("page", image.tobytes(), image.size, page.format, page.page, page.pages))
        except ProblemError as exc:
            conn.send(("problem", exc.status_code, exc.slug, exc.title, str(exc.detail)))
        except MemoryError:
            conn.send(("problem", 413, "too-large", "Upload too large", "over the memory limit"))


class _Worker:
    def __init__(self, memory_bytes: int) -> None:
        ctx = mp.get_context("forkserver")
        # Not the default ["__main__"]: the server's main module has no business in a child.
        ctx.set_forkserver_preload(["service.decode"])
        self.conn, child = ctx.Pipe()
        self.proc: BaseProcess = ctx.Process(
            target=_serve, args=(child, memory_bytes), name="docexit-pdf", daemon=True
        )
        self.proc.start()
        child.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class PdfSandbox:
    """decode() for PDFs, in `processes` worker processes; thread-safe."""

    def __init__(self, processes: int, timeout_s: float, memory_bytes: int) -> None:
        self.processes, self.timeout_s, self.memory_bytes = processes, timeout_s, memory_bytes
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Starts the processes that are missing (returns at once; they get ready meanwhile)."""
        with self._lock:
            while len(self._all) < self.processes:
                worker = _Worker(self.memory_bytes)
                self._all.append(worker)
                self._idle.put(worker)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self.memory_bytes)
        with self._lock:
            self._all[self._all.index(worker)] = fresh
        return fresh

    def decode(self, *args: Any) -> Page:
        """service.decode.decode(*args) in a worker process; raises ProblemError only."""
        self.start()
        worker = self._idle.get()
        try:
            worker.conn.send(args)
            if not worker.conn.poll(self.timeout_s):
                log.warning("a PDF took over %.1f s: its process is replaced", self.timeout_s)
                worker = self._replace(worker)
                raise undecodable(
                    f"the PDF takes more than {self.timeout_s:g} s to open and render; "
                    "send the page as an image"
                )
            try:
                reply = worker.conn.recv()
            except (EOFError, OSError) as exc:  # the process died (a crash in PDFium)
                worker = self._replace(worker)
                raise undecodable("PDFium failed on this PDF") from exc
        finally:
            self._idle.put(worker)
        if reply[0] == "problem":
            _, status, slug, title, detail = reply
            raise ProblemError(status, slug, title, detail)
        _, pixels, size, fmt, page, pages = reply
        return Page(Image.frombytes("L", size, pixels), fmt, page, pages)

    def close(self) -> None:
        with self._lock:
            for worker in self._all:
                worker.kill()
            self._all.clear()
