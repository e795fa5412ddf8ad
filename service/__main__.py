"""python -m service: uvicorn on HOST:PORT (127.0.0.1:8000 by default), UVICORN_WORKERS
processes (set PROMETHEUS_MULTIPROC_DIR for metrics across several)."""

from __future__ import annotations

import logging
import os

import uvicorn

from service.settings import Settings


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s"
    )
    Settings()  # refuse bad settings before uvicorn starts any worker
    workers = int(os.environ.get("UVICORN_WORKERS", "1"))
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        workers=workers,
        timeout_graceful_shutdown=30,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
    )


if __name__ == "__main__":
    main()
