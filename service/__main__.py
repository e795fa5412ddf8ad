"""python -m service: uvicorn on HOST:PORT (127.0.0.1:8000 by default), UVICORN_WORKERS
processes (set PROMETHEUS_MULTIPROC_DIR for metrics across several); all read by Settings."""

from __future__ import annotations

import logging

import uvicorn

from service.settings import Settings


def main() -> None:
    settings = Settings()  # refuse bad settings before uvicorn starts any worker
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.uvicorn_workers,
        timeout_graceful_shutdown=30,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
