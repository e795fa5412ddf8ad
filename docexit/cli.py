"""`docexit classify PATH... --out results.jsonl`: every page and document under the paths through
the service, N at a time, one row per file appended as it comes (resumable), then a summary.
`docexit model` and `docexit health` print the service's model card and readiness."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

from docexit.client import (
    DEFAULT_URL,
    AsyncClient,
    Client,
    DocexitError,
    ProblemError,
    RetryPolicy,
    UnavailableError,
)
from docexit.results import ResultsFile, Row, answer_row, error_row
from docexit.summary import summarize

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"})


@dataclass(frozen=True)
class Options:
    latency_budget_ms: int | None = None
    policy: str | None = None
    full_depth: bool = False


def find_files(paths: Sequence[str]) -> list[str]:
    """Files named, and those with a page suffix under folders named (recursively), each once,
    sorted within a folder so that runs and resumes see the same order."""
    found: dict[str, None] = {}
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.suffix.lower() in SUFFIXES and f.is_file():
                    found[str(f)] = None
        elif path.is_file():
            found[str(path)] = None
        else:
            raise FileNotFoundError(f"{arg}: no such file or folder")
    return list(found)


def pages_for(path: str) -> str | None:
    """The `pages` field: all of a PDF or a multi-frame TIFF (one document), else None (a
    single page)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf":
        return "all"
    if suffix in (".tif", ".tiff"):
        from PIL import Image  # only here: counting frames reads the TIFF's directory only

        try:
            with Image.open(path) as image:
                return "all" if getattr(image, "n_frames", 1) > 1 else None
        except (OSError, ValueError):
            return None  # the service says what is wrong with it
    return None


async def classify_one(client: AsyncClient, path: str, options: Options) -> Row:
    """The file's row: its answer, or the service's refusal. Raises UnavailableError (and any
    other transport failure) when the trouble is the service, not this file."""
    start = time.perf_counter()

    def ms() -> float:
        return (time.perf_counter() - start) * 1000.0

    try:
        answer = await client.classify(
            path,
            pages=pages_for(path),
            latency_budget_ms=options.latency_budget_ms,
            policy=options.policy,
            full_depth=options.full_depth,
        )
    except ProblemError as exc:
        return error_row(path, exc.status, exc.detail, ms())
    except httpx.TimeoutException as exc:
        return error_row(path, None, f"no answer in time: {exc!r}", ms())
    except OSError as exc:
        return error_row(path, None, f"cannot read the file: {exc}", ms())
    return answer_row(path, answer, ms())


async def classify_all(
    client: AsyncClient, todo: list[str], results: ResultsFile, options: Options, concurrency: int
) -> str | None:
    """Rows for the files in `todo`, appended to `results` as they come; None when every file
    got a row, else why the run stopped early (the service unavailable past the retries)."""
    pending: Iterator[str] = iter(todo)
    stopped: list[str] = []
    with tqdm(total=len(todo), unit="file", desc="classify", dynamic_ncols=True) as bar:

        async def worker() -> None:
            for path in pending:  # shared: each file goes to the first free worker
                if stopped:
                    return
                try:
                    row = await classify_one(client, path, options)
                except (UnavailableError, httpx.TransportError) as exc:
                    stopped.append(f"{path}: {exc}")
                    return
                results.append(row)
                bar.update()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return stopped[0] if stopped else None


async def run_classify(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None) -> int:
    files = find_files(args.paths)
    results = ResultsFile(Path(args.out))
    done = results.done()
    todo = [f for f in files if f not in done]
    if len(todo) < len(files):
        sys.stderr.write(
            f"resuming: {len(files) - len(todo)} of {len(files)} files in {args.out}\n"
        )
    options = Options(args.budget_ms, args.policy, args.full_depth)
    retry = RetryPolicy(max_wait_s=args.max_wait_s)
    client = AsyncClient(
        args.url,
        timeout_s=args.timeout_s,
        retry=retry,
        transport=transport,
        max_connections=args.concurrency,
    )
    try:
        async with client:
            stopped = await classify_all(client, todo, results, options, args.concurrency)
    finally:
        results.close()
    wanted = set(files)
    rows = [r for r in results.rows if r["path"] in wanted]
    unfinished = len(files) - len({r["path"] for r in rows})
    if stopped:
        sys.stderr.write(f"stopped early, the service is unavailable: {stopped}\n")
    sys.stdout.write(summarize(rows, unfinished))
    failed = unfinished or any(r["status"] != "ok" for r in rows)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=os.environ.get("DOCEXIT_URL", DEFAULT_URL),
        help=f"the service (default: $DOCEXIT_URL, else {DEFAULT_URL})",
    )
    common.add_argument(
        "--timeout-s", type=float, default=120.0, help="seconds an answer may take (default 120)"
    )
    common.add_argument(
        "--max-wait-s",
        type=float,
        default=120.0,
        help="seconds one request's retries may wait in all (default 120)",
    )
    p = argparse.ArgumentParser(prog="docexit", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "classify", parents=[common], help="classify files and folders into a results file"
    )
    c.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders walked recursively")
    c.add_argument("--out", required=True, help="results file: .jsonl or .csv (appended, resumed)")
    c.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    c.add_argument("--budget-ms", type=int, help="latency budget per request")
    c.add_argument("--policy", help='a policy name, or JSON like {"name": "global", "tau": 0.9}')
    c.add_argument("--full-depth", action="store_true", help="run the whole model, no early exit")
    sub.add_parser("model", parents=[common], help="print the model card (GET /v1/model)")
    sub.add_parser(
        "health", parents=[common], help="print readiness (GET /readyz); exit 1 when not ready"
    )
    return p


def main(
    argv: Sequence[str] | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    """The console script; transport: tests answer through httpx.MockTransport."""
    args = parser().parse_args(argv)
    try:
        if args.command == "classify":
            if args.concurrency < 1:
                raise ValueError("--concurrency must be at least 1")
            return asyncio.run(run_classify(args, transport))
        with Client(args.url, timeout_s=args.timeout_s, retry=RetryPolicy(args.max_wait_s)) as c:
            body = c.model() if args.command == "model" else c.health()
        sys.stdout.write(json.dumps(body, indent=1) + "\n")
        return 0
    except (DocexitError, httpx.HTTPError, OSError, ValueError) as exc:
        sys.stderr.write(f"docexit: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
