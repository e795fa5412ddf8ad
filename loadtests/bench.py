"""`make bench`: docexit's adaptive exits against the same service at full depth and a plain
transformers pipeline, on the same generated pages and the same OCR, interleaved; then a budget
sweep, the card's policies live, and overload. Writes report.md, PNG plots, results.json and
samples.jsonl (and readme_section.md, the README's benchmark section) to --out, and prints the
report's path.

    python -m loadtests.bench --out reports/bench --minutes 16

--minutes is the time plan for the measurements (shared between phases, each taking its share of
what is left); page generation and server start-up come on top (about a minute here)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from loadtests import plots, readme, report, results, servers
from loadtests.client import Variant
from loadtests.pages import BENCH_SEED, make_pages
from loadtests.phases import KEYS, Bench, Plan, pick_policies
from models.data.labels import CLASSES
from service.settings import usable_cores

log = logging.getLogger("docexit.loadtests.bench")
SHARES = {
    "compare": 0.32,
    "saturation": 0.12,
    "shadow": 0.2,  # at the default 2%, enough requests that the lane samples some
    "batching": 0.1,
    "sweep": 0.16,
    "policies": 0.08,
    "overload": 0.14,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("reports/bench"))
    p.add_argument("--minutes", type=float, default=16.0, help="time plan for the measurements")
    p.add_argument("--per-class", type=int, default=4, help="generated pages per class")
    p.add_argument("--classes", nargs="+", choices=CLASSES, default=list(CLASSES))
    p.add_argument("--seed", type=int, default=BENCH_SEED, help="page seed (training used 0)")
    p.add_argument("--pages-dir", type=Path, default=Path("build/bench-pages"))
    p.add_argument("--workers", type=int, default=usable_cores(), help="per server")
    p.add_argument("--queue-size", type=int, default=16, help="docexit's DOCEXIT_QUEUE_SIZE")
    p.add_argument(
        "--ocr",
        choices=("engine", "client"),
        default="engine",
        help="engine: Tesseract in every server; client: the generator's words sent as `ocr` "
        "(no OCR at all: a quick mode for tests)",
    )
    p.add_argument("--rounds", type=int, default=2, help="saturation chunks per variant")
    p.add_argument("--sweep-points", type=int, default=6, help="budgets in the sweep")
    p.add_argument("--policy-knobs", type=int, default=3, help="card points per policy family")
    p.add_argument("--overload", default="2,3", help="multiples of a's saturation throughput")
    p.add_argument(
        "--overload-window",
        type=float,
        default=45.0,
        help="seconds of arrivals per overload run at least (shorter, and no queue builds)",
    )
    p.add_argument("--min-pages", type=int, default=1, help="pages per phase whatever the plan")
    p.add_argument("--docexit-url", help="a running docexit (a, b) instead of starting one")
    p.add_argument("--baseline-url", help="a running baseline (c) instead of starting one")
    p.add_argument(
        "--noshadow-url", help="with --docexit-url: the same service with DOCEXIT_SHADOW_RATE=0"
    )
    p.add_argument(
        "--batched-url", help="with --noshadow-url: that service with DOCEXIT_MAX_BATCH set too"
    )
    p.add_argument("--max-batch", type=int, default=8, help="ab's DOCEXIT_MAX_BATCH")
    p.add_argument(
        "--admin-token",
        help="the admin token of servers given by URL (switches degrading per phase)",
    )
    p.add_argument("--logs", type=Path, default=Path("build/bench-logs"))
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def start_servers(args: argparse.Namespace) -> tuple[dict[str, str], list[servers.Server], float]:
    """Start whichever servers were not given, all at once, and wait for them: docexit (its
    shadow lane at the default rate), the same with the lane off, and batching too (only when
    docexit is started here: the shadow and batching phases need them), and the baseline."""
    started: list[servers.Server] = []
    t = time.monotonic()
    if not args.docexit_url:
        token = args.admin_token = secrets.token_urlsafe(24)
        started.append(servers.docexit(args.workers, args.queue_size, token, args.logs))
        started.append(
            servers.docexit(
                args.workers,
                args.queue_size,
                token,
                args.logs,
                "noshadow",
                {"DOCEXIT_SHADOW_RATE": "0"},
            )
        )
        batched = {"DOCEXIT_SHADOW_RATE": "0", "DOCEXIT_MAX_BATCH": str(args.max_batch)}
        started.append(
            servers.docexit(args.workers, args.queue_size, token, args.logs, "batched", batched)
        )
    if not args.baseline_url:
        started.append(servers.baseline(args.workers, args.logs))
    try:
        for s in started:
            s.wait_ready()
    except Exception:
        for s in started:
            s.stop()
        raise
    urls = {s.name: s.url for s in started}
    if args.noshadow_url:
        urls["noshadow"] = args.noshadow_url
    if args.batched_url:
        urls["batched"] = args.batched_url
    urls["docexit"] = args.docexit_url or urls["docexit"]
    urls["baseline"] = args.baseline_url or urls["baseline"]
    return urls, started, time.monotonic() - t


def set_degrade(urls: list[str], token: str | None, value: bool | None) -> bool:
    """Switch degrading under load (PUT /admin/v1/degrade; None: the server's setting) on
    every server; False when there is no admin token to do it with."""
    if not token:
        return False
    for url in urls:
        r = httpx.put(
            f"{url}/admin/v1/degrade",
            json={"degrade": value},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        r.raise_for_status()
    return True


def shadow_counts(url: str) -> dict[str, float]:
    """Shadow pairs and drops so far, from the service's /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    out = {"pairs": 0.0, "dropped": 0.0}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name == "docexit_shadow_total":
            out["pairs"] += float(line.rsplit(" ", 1)[1])
        elif name == "docexit_shadow_dropped_total":
            out["dropped"] += float(line.rsplit(" ", 1)[1])
    return out


def run(args: argparse.Namespace) -> Path:
    began, t_start = datetime.now(UTC), time.monotonic()
    load_before = os.getloadavg()
    pages = make_pages(args.pages_dir, args.per_class, args.seed, tuple(args.classes))
    urls, started, startup_s = start_servers(args)
    docexit_url, baseline_url = urls["docexit"], urls["baseline"]
    try:
        model = httpx.get(f"{docexit_url}/v1/model", timeout=30).json()
        variants = {
            "a": Variant("a", "docexit, default policy", docexit_url),
            "b": Variant("b", "docexit, full depth", docexit_url, {"full_depth": "true"}),
            "c": Variant("c", "plain transformers baseline", baseline_url),
        }
        if "noshadow" in urls:
            variants["a0"] = Variant("a0", "docexit, default policy, no shadow", urls["noshadow"])
        if "batched" in urls:
            variants["ab"] = Variant("ab", "docexit, default policy, batched", urls["batched"])
        bench = Bench(
            pages,
            variants,
            args.workers,
            client_ocr=args.ocr == "client",
            progress=not args.no_progress,
            min_pages=args.min_pages,
        )
        docexits = [u for k, u in urls.items() if k != "baseline"]
        # The closed-loop phases measure what each request costs at its policy: degrading,
        # which trades depth for queueing, is measured in the overload phase alone.
        if not set_degrade(docexits, args.admin_token, False):
            bench.notes.append("degrading left as each server sets it: no admin token")
        plan = Plan(60.0 * args.minutes, SHARES)
        raw: dict[str, Any] = {"compare": bench.compare(plan.deadline("compare"))}
        t_accuracy = time.monotonic()
        raw["accuracy"] = bench.accuracy(raw["compare"])
        plan.extend(time.monotonic() - t_accuracy)
        raw["saturation"] = bench.saturation(
            plan.seconds("saturation"), args.rounds, raw["compare"]
        )
        if "a0" in variants:
            before = shadow_counts(docexit_url)
            raw["shadow"] = bench.shadow(plan.seconds("shadow"), raw["compare"])
            after = shadow_counts(docexit_url)
            raw["shadow"]["lane"] = {k: after[k] - before[k] for k in after}
        else:
            plan.seconds("shadow")  # its share goes to the later phases
            bench.notes.append("shadow: skipped, no docexit with its shadow lane off to compare")
        if "a0" in variants and "ab" in variants:
            raw["batching"] = bench.batching(
                plan.seconds("batching"), raw["compare"], args.max_batch
            )
            raw["batching"]["max_batch"] = args.max_batch
        else:
            plan.seconds("batching")
            bench.notes.append("batching: skipped, no batched docexit beside a0 to compare")
        sweep_deadline = plan.deadline("sweep")
        raw["floor"] = bench.floor()
        b_p95 = results.p95_of(raw["compare"], "b")
        raw["sweep"] = bench.sweep(
            sweep_deadline, raw["floor"]["smallest_useful_ms"], b_p95, args.sweep_points
        )
        raw["policy_points"] = pick_policies(model, args.policy_knobs)
        raw["policies"] = bench.policies(plan.deadline("policies"), raw["policy_points"])
        x_a = results.throughput_of(raw["saturation"], "a")
        factors = [float(f) for f in args.overload.split(",") if f.strip()]
        overload_s = plan.seconds("overload")
        if set_degrade([docexit_url], args.admin_token, None):  # as shipped: on
            window = args.overload_window
            raw["overload"] = bench.overload(overload_s, x_a, factors, window)
            set_degrade([docexit_url], args.admin_token, False)
            raw["overload"] += bench.overload(overload_s / 2, x_a, [2.0], window, "degrade off")
            set_degrade([docexit_url], args.admin_token, None)
        else:
            raw["overload"] = bench.overload(overload_s, x_a, factors, args.overload_window)
        live = httpx.get(f"{docexit_url}/v1/model", timeout=30).json().get("live_latency_s")
    finally:
        for s in started:
            s.stop()
    meta = {
        "started": began.isoformat(timespec="seconds"),
        "startup_s": startup_s,
        "minutes_planned": args.minutes,
        "pages": len(pages),
        "per_class": args.per_class,
        "classes": len(args.classes),
        "seed": args.seed,
        "workers": args.workers,
        "queue_size": args.queue_size,
        "ocr": "client words (generator ground truth)" if args.ocr == "client" else "tesseract",
        "cpus": usable_cores(),
        "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT", "unset"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "model": f"{model.get('name')} {model.get('version')}",
        "live_latency_s": live,
        "notes": bench.notes,
        "variants": {k: variants[k].title for k in KEYS},
        "command": "python -m loadtests.bench " + " ".join(sys.argv[1:]),
    }
    numbers = results.assemble(raw, meta, model)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "samples.jsonl").open("w") as f:
        for phase, samples in results.all_samples(raw):
            for sample in samples:
                f.write(json.dumps({"phase": phase, **sample.to_dict()}) + "\n")
    images = plots.draw(numbers, raw, args.out)
    numbers["meta"]["wall_s"] = time.monotonic() - t_start
    results.with_targets(numbers)
    (args.out / "results.json").write_text(json.dumps(numbers, indent=2, default=str) + "\n")
    (args.out / "readme_section.md").write_text(readme.section(numbers, images, args.out))
    path: Path = args.out / "report.md"
    path.write_text(report.markdown(numbers, images))
    return path


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    path = run(args)
    print(path)  # noqa: T201 - the CLI's one output: where the report is


if __name__ == "__main__":
    main()
