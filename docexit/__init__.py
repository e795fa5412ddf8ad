"""docexit's client side: a thin HTTP client (docexit.client) and the `docexit` command
(docexit.cli). Nothing here imports torch or the service."""

from docexit.client import (
    AsyncClient,
    Client,
    DocexitError,
    ProblemError,
    RetryPolicy,
    UnavailableError,
    is_document,
)

__all__ = [
    "AsyncClient",
    "Client",
    "DocexitError",
    "ProblemError",
    "RetryPolicy",
    "UnavailableError",
    "is_document",
]
