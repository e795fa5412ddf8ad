"""The batcher's shutdown error, apart from models.batched so that what only needs to name it
(service.errors, imported by every PDF sandbox process) does not import torch."""

from __future__ import annotations


class BatcherClosedError(RuntimeError):
    """A page reached the batcher after it closed (the service is shutting down)."""
