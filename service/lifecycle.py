"""Graceful shutdown for rolling updates.

On SIGTERM a replica first fails readiness (/readyz 503, "draining") for DOCEXIT_SHUTDOWN_DRAIN_S
while it goes on serving, so that load balancers and Kubernetes endpoints stop routing to it
before its socket closes; then it hands the signal to uvicorn, which stops accepting
connections, lets every request in flight finish (up to 30 s) and runs the lifespan shutdown.
A second SIGTERM, or SIGINT, skips what is left of the drain.

The handler is installed from the lifespan, i.e. inside uvicorn's own signal capture and in every
worker process, so it wraps uvicorn's handler rather than replacing it."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

log = logging.getLogger("docexit.service")

Handler = Callable[[int, FrameType | None], Any]


class Drainable(Protocol):
    """What the drain sets: the app's ServiceState (service.state), whose flag /readyz reads."""

    draining: bool


def begin_drain(state: Drainable) -> None:
    """From now on /readyz answers 503; requests are still served."""
    if not state.draining:
        state.draining = True
        log.info("draining: readiness fails, in-flight and new requests are still served")


def install_drain(state: Drainable, drain_s: float) -> Callable[[], None]:
    """Wrap the process's SIGTERM handler (uvicorn's) with a drain of drain_s seconds; returns
    the function that puts the wrapped handler back. A no-op off the main thread (signal
    handlers live there: an in-process test client runs the lifespan elsewhere) or for 0 s."""
    if drain_s <= 0 or threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    timers: list[threading.Timer] = []

    def hand_over(sig: int, frame: FrameType | None) -> None:
        if callable(previous):
            previous(sig, frame)
        elif threading.current_thread() is threading.main_thread():
            # No server handler (SIG_DFL): end the process the default way.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(sig)
        else:
            # The drain's timer: only the main thread may change a handler, so signal the
            # process again; on_sigterm, already draining, hands over from the main thread.
            os.kill(os.getpid(), sig)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if state.draining:  # a second SIGTERM: stop waiting
            for timer in timers:
                timer.cancel()
            hand_over(sig, frame)
            return
        begin_drain(state)
        # uvicorn's handler only sets flags its main loop polls, so a timer thread may call it.
        timer = threading.Timer(drain_s, hand_over, (sig, None))
        timer.daemon = True
        timers.append(timer)
        timer.start()
        log.info("SIGTERM: draining for %.1f s before shutting down", drain_s)

    signal.signal(signal.SIGTERM, on_sigterm)

    def uninstall() -> None:
        for timer in timers:
            timer.cancel()
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)

    return uninstall
