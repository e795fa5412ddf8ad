"""The overload phase's numbers, targets and report section: open-loop Poisson arrivals at
multiples of a's saturation throughput, with degrading (service.pressure) on as shipped, and
once at 2x with it switched off through the admin API, for the comparison."""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadtests.client import Sample
from loadtests.stats import mean, pct, share

MAX_503_SHARE_2X = 0.02
MAX_P95_RATIO_2X = 2.0  # accepted p95 against the idle p95 (a, one request at a time)


def numbers(raw: dict[str, Any], idle_p95_ms: float) -> list[dict[str, Any]]:
    out = []
    for o in raw["overload"]:
        samples: list[Sample] = o["samples"]
        ok = [s for s in samples if s.ok]
        accepted = [1000.0 * s.latency_s for s in ok]
        refused = [s for s in samples if s.status == 503]
        other = [s for s in samples if s.status not in (200, 503)]
        degraded = [s for s in ok if s.degraded]
        full = [s for s in ok if not s.degraded]
        p95 = pct(accepted, 95)
        out.append(
            {
                "factor": o["factor"],
                "label": o.get("label", ""),
                "rate_per_s": o["rate"],
                "window_s": o["window_s"],
                "requests": len(samples),
                "accepted": len(accepted),
                "share_503": share(samples, 503),
                "refused_with_retry_after": sum(1 for s in refused if s.retry_after),
                "refused": len(refused),
                "other_errors": len(other),
                "other_error_kinds": dict(Counter(s.error or str(s.status) for s in other)),
                "p50_accepted_ms": pct(accepted, 50),
                "p95_accepted_ms": p95,
                "p99_accepted_ms": pct(accepted, 99),
                "idle_p95_ms": idle_p95_ms,
                "p95_ratio": p95 / idle_p95_ms if idle_p95_ms else float("nan"),
                "degraded_share": len(degraded) / len(ok) if ok else float("nan"),
                "rungs": dict(Counter(str(s.degraded) for s in degraded)),
                "accuracy_degraded": mean(float(s.correct) for s in degraded),
                "accuracy_not_degraded": mean(float(s.correct) for s in full),
                "ocr_skipped_degraded": mean(float(bool(s.ocr_skipped)) for s in degraded),
            }
        )
    return out


def _run(r: dict[str, Any], factor: float) -> dict[str, Any] | None:
    """The shipped service's run at `factor` (degrading on)."""
    return next((o for o in r["overload"] if o["factor"] == factor and not o["label"]), None)


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    def target(name: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
        return {"target": name, "goal": goal, "measured": measured, "met": bool(met)}

    out = []
    if (two := _run(r, 2.0)) is not None:
        out.append(
            target(
                "overload 2x: share refused (503)",
                f"<= {MAX_503_SHARE_2X:.0%}",
                f"{two['share_503']:.1%} of {two['requests']}",
                two["share_503"] <= MAX_503_SHARE_2X,
            )
        )
        out.append(
            target(
                "overload 2x: p95 of accepted answers against the idle p95",
                f"<= {MAX_P95_RATIO_2X:g}x",
                f"{two['p95_ratio']:.2f}x ({two['p95_accepted_ms']:.0f} against "
                f"{two['idle_p95_ms']:.0f} ms)",
                two["p95_ratio"] <= MAX_P95_RATIO_2X,
            )
        )
    if (three := _run(r, 3.0)) is not None:
        out.append(
            target(
                "overload 3x: every refusal a 503 with Retry-After, no other error",
                "all",
                f"{three['refused_with_retry_after']} of {three['refused']} refusals with "
                f"Retry-After, {three['other_errors']} other errors",
                three["refused_with_retry_after"] == three["refused"]
                and three["other_errors"] == 0,
            )
        )
    return out


def markdown(r: dict[str, Any], num: Any, pc: Any, table: Any) -> list[str]:
    """The report's section (num, pc, table: loadtests.report's formatters)."""
    rows = [
        [
            f"{o['factor']:g}x" + (f" ({o['label']})" if o["label"] else ""),
            num(o["rate_per_s"], ".2f"),
            str(o["requests"]),
            pc(o["share_503"]),
            num(o["p50_accepted_ms"]),
            num(o["p95_accepted_ms"]),
            num(o["p99_accepted_ms"]),
            num(o["p95_ratio"], ".2f", "x"),
            pc(o["degraded_share"]),
            ", ".join(f"{k} {v}" for k, v in sorted(o["rungs"].items())) or "-",
            pc(o["accuracy_degraded"]),
            pc(o["accuracy_not_degraded"]),
            str(o["other_errors"]) + (f" {o['other_error_kinds']}" if o["other_errors"] else ""),
        ]
        for o in r["overload"]
    ]
    head = [
        "load",
        "arrivals/s",
        "requests",
        "503",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p95 / idle p95",
        "degraded",
        "rungs",
        "accuracy degraded",
        "accuracy not degraded",
        "other errors",
    ]
    m = r["meta"]
    idle = r["overload"][0]["idle_p95_ms"] if r["overload"] else float("nan")
    return [
        "## Overload (a, open loop, Poisson arrivals at multiples of its saturation throughput)",
        "",
        f"DOCEXIT_QUEUE_SIZE={m['queue_size']}, {m['workers']} workers. Degrading under load "
        "(`DOCEXIT_DEGRADE`, service.pressure) is on as shipped; the run marked `degrade off` "
        "switched it off through `PUT /admin/v1/degrade` on the same service, so that only the "
        f"work queue's cap sheds load. Idle p95: a's, one request at a time ({num(idle)} ms). "
        "Latency is client-side, over accepted requests; accuracy over the answers degraded and "
        "the rest.",
        "",
        *table(head, rows),
    ]
