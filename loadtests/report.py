"""report.md from the bench's numbers: the targets met or not, the headline table, the ratios,
the budget sweep, the policies live, overload, and the plots."""

from __future__ import annotations

import math
from typing import Any

from loadtests import overload as overload_section
from loadtests.phases import KEYS
from loadtests.stats import sign_test


def num(x: Any, fmt: str = ".0f", suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:{fmt}}{suffix}"


def pc(x: Any) -> str:
    return num(None if x is None else 100.0 * x, ".1f", "%")


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def targets(r: dict[str, Any]) -> list[str]:
    rows = [
        [t["target"], t["goal"], t["measured"], "**met**" if t["met"] else "**not met**"]
        for t in r["targets"]
    ]
    out = ["## Acceptance targets", ""]
    out += table(["target", "goal", "measured", "result"], rows)
    return (
        out + [""] + [f"- {t['target']}: {'met' if t['met'] else 'not met'}" for t in r["targets"]]
    )


def headline(r: dict[str, Any]) -> list[str]:
    c, sat = r["compare"], r["saturation"]
    rows = []
    for k in KEYS:
        s = c[k]
        rows.append(
            [
                f"{k}: {r['meta']['variants'][k]}",
                pc(s["accuracy"]),
                num(s["mean_exit_layer"], ".2f"),
                pc(s["ocr_skip_rate"]),
                num(s["mean_ms"]),
                num(s["p50_ms"]),
                num(s["p95_ms"]),
                num(s["p99_ms"]),
                num(sat[k]["throughput"], ".2f"),
            ]
        )
    for other in ("b", "c"):
        q = c[f"a/{other}"]
        rows.append(
            [
                f"**a/{other}**",
                num(
                    100 * (c["paired"]["accuracy_a"] - c["paired"][f"accuracy_{other}"]),
                    "+.1f",
                    " pt",
                ),
                "",
                "",
                num(q["mean_ms"], ".3f"),
                num(q["p50_ms"], ".3f"),
                num(q["p95_ms"], ".3f"),
                num(q["p99_ms"], ".3f"),
                num(sat[f"a/{other}"], ".2f", "x"),
            ]
        )
    head = [
        "variant",
        "accuracy",
        "mean exit layer",
        "OCR skipped",
        "mean ms",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "answers/s at saturation",
    ]
    p = c["paired"]
    return [
        "## a, b and c side by side",
        "",
        f"{p['pages']} pages, each sent to a, b and c in turn (order rotating), one request at a "
        f"time; latency is client-side, upload to answer. Throughput at saturation: closed loop "
        f"with {sat['concurrency']} clients (workers + 1) over the same {sat['pages']} pages for "
        "each variant, in chunks alternating between variants; answers over the seconds from "
        "first request to last answer.",
        "",
        *table(head, rows),
        "",
        f"Paired, on the same {p['pages']} pages: a wrong where b is right on "
        f"{p.get('a_wrong_b_right', 0)}, a right where b is wrong on {p.get('a_right_b_wrong', 0)}"
        f"; against c: {p.get('a_wrong_c_right', 0)} and {p.get('a_right_c_wrong', 0)}. One page "
        f"is {num(100 / max(1, p['pages']), '.1f')} points. Two-sided sign test over the pages "
        "where a and b differ (how likely so uneven a split is if neither is more accurate): "
        f"p = {sign_test(p.get('a_wrong_b_right', 0), p.get('a_right_b_wrong', 0)):.2f}.",
        "",
        "Accuracy by difficulty (scan degradation): "
        + "; ".join(
            f"{k}: " + ", ".join(f"{d} {pc(v)}" for d, v in c[k]["accuracy_by_difficulty"].items())
            for k in KEYS
        ),
    ]


def accuracy(r: dict[str, Any]) -> list[str]:
    a = r["accuracy"]
    return [
        "## a against b on every page",
        "",
        f"a and b on all {a['pages']} pages (the compare phase's answers, then the rest "
        f"{r['meta']['workers']} at a time): a {pc(a['accuracy_a'])}, b {pc(a['accuracy_b'])}, "
        f"{a['delta_points']:+.1f} points. a wrong where b is right on "
        f"{a.get('a_wrong_b_right', 0)} pages, right where b is wrong on "
        f"{a.get('a_right_b_wrong', 0)}; two-sided sign test p = {a['sign_test_p']:.2f}. "
        f"{pc(a['a_certified_share'])} of a's answers came from a certified operating point "
        "(`policy.guarantee.certified`).",
    ]


def shadow(r: dict[str, Any]) -> list[str]:
    sh = r.get("shadow")
    if sh is None:
        return ["## Shadow monitoring's cost", "", "Not measured: " + "; ".join(r["meta"]["notes"])]
    a, a0, lane = sh["a"], sh["a0"], sh["lane"]
    return [
        "## Shadow monitoring's cost",
        "",
        f"a with its shadow lane at the default `DOCEXIT_SHADOW_RATE` against a0, the same "
        f"service with the lane off, closed loop at saturation ({sh['concurrency']} clients, the "
        f"same {sh['pages']} pages, chunks alternating): p95 {num(a['p95_ms'])} ms against "
        f"{num(a0['p95_ms'])} ms (ratio {num(sh['p95_ratio'], '.3f')}), p50 {num(a['p50_ms'])} "
        f"against {num(a0['p50_ms'])} ms, {num(a['throughput'], '.2f')} against "
        f"{num(a0['throughput'], '.2f')} answers/s. Meanwhile a's lane compared "
        f"{lane.get('pairs', 0):.0f} pairs and dropped {lane.get('dropped', 0):.0f} "
        "(a shadow run gives way while every worker is busy).",
    ]


def batching(r: dict[str, Any]) -> list[str]:
    ba = r.get("batching")
    if ba is None:
        return ["## Batching", "", "Not measured: " + "; ".join(r["meta"]["notes"])]
    a0, ab = ba["a0"], ba["ab"]
    return [
        "## Batching",
        "",
        f"a0 (every page alone, shadow lane off) against ab, the same service batching up to "
        f"{ba['max_batch']} pages a pass (`DOCEXIT_MAX_BATCH`), closed loop at saturation "
        f"({ba['concurrency']} clients, the same {ba['pages']} pages, chunks alternating): "
        f"{num(ab['throughput'], '.2f')} against {num(a0['throughput'], '.2f')} answers/s "
        f"(ratio {num(ba['throughput_ratio'], '.3f')}), p95 {num(ab['p95_ms'])} against "
        f"{num(a0['p95_ms'])} ms (ratio {num(ba['p95_ratio'], '.3f')}).",
    ]


def saturation(r: dict[str, Any]) -> list[str]:
    rows = []
    for k in KEYS:
        s = r["saturation"][k]
        per = ", ".join(num(w["answered"] / w["seconds"], ".2f") for w in s["chunks"])
        u = s["under_load"]
        rows.append(
            [
                k,
                num(s["throughput"], ".2f"),
                per,
                pc(u["accuracy"]),
                num(u["p50_ms"]),
                num(u["p95_ms"]),
                num(u["p99_ms"]),
                str(u["status"]),
            ]
        )
    head = [
        "variant",
        "answers/s",
        "per chunk",
        "accuracy",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "statuses",
    ]
    return ["## Throughput at saturation", "", *table(head, rows)]


def sweep(r: dict[str, Any]) -> list[str]:
    sw = r["sweep"]
    fl = sw["floor"]
    rows = [
        [
            num(b["budget_ms"]) + ("" if b["target"] else " (below useful)"),
            num(b["p50_ms"]),
            num(b["p95_ms"]),
            "yes" if b["within"] else "**no**",
            pc(b["accuracy"]),
            num(b["mean_exit_layer"], ".2f"),
            pc(b["ocr_skip_rate"]),
            pc(b["deadline_hit_rate"]),
            str(b["answered"]),
        ]
        for b in sw["budgets"]
    ]
    head = [
        "budget ms",
        "p50 ms",
        "p95 ms",
        "p95 within",
        "accuracy",
        "mean exit layer",
        "OCR skipped",
        "deadline hit",
        "requests",
    ]
    return [
        "## Budget sweep (a, `latency_budget_ms` per request)",
        "",
        f"Smallest useful budget: **{sw['smallest_useful_ms']} ms**. With a 1 ms budget the "
        "cascade answers at its first exit whatever it says (image embedding and "
        f"`emb.vision_avg`): p95 {num(fl['p95_ms'])} ms, accuracy {pc(fl['accuracy'])} on "
        f"{fl['answered']} pages. No budget below that floor can be held, so the smallest useful "
        "budget is its p95 plus the larger of 25% and 20 ms, rounded up to 10 ms. The sweep runs "
        f"from there to full-depth time (b's p95, {num(sw['full_depth_p95_ms'])} ms), evenly in "
        "log scale. Latency is client-side; the service's deadline starts when the request "
        "arrives.",
        "",
        *table(head, rows),
    ]


def policies(r: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"`{k}`",
            pc(p["card_accuracy"]),
            num(p["card_end_to_end_ms"]),
            pc(p["accuracy"]),
            num(p["mean_ms"]),
            num(p["p95_ms"]),
            num(p["mean_exit_layer"], ".2f"),
            pc(p["ocr_skip_rate"]),
            str(p["answered"]),
        ]
        for k, p in r["policies"].items()
    ]
    head = [
        "policy",
        "card accuracy",
        "card ms (modelled)",
        "accuracy",
        "mean ms",
        "p95 ms",
        "mean exit layer",
        "OCR skipped",
        "requests",
    ]
    return ["## The card's policies, live (a with `policy` per request)", "", *table(head, rows)]


def overload(r: dict[str, Any]) -> list[str]:
    return overload_section.markdown(r, num, pc, table)


def markdown(r: dict[str, Any], images: dict[str, str]) -> str:
    m = r["meta"]
    lines = [
        "# docexit benchmark: adaptive exits against full depth and a plain pipeline",
        "",
        f"Run {m['started']} on {m['cpus']} CPUs ({m['machine']}), {m['wall_s'] / 60:.1f} min "
        f"wall ({m['minutes_planned']:g} planned for measurements, {m['startup_s']:.0f} s "
        f"server start-up). {m['pages']} generated pages ({m['classes']} classes x "
        f"{m['per_class']}, seed {m['seed']}), OCR: {m['ocr']}; {m['workers']} workers per "
        f"server (OMP_THREAD_LIMIT {m['omp_thread_limit']}: Tesseract's OpenMP threads per call). "
        f"Model {m['model']}. Load average before/after: "
        f"{', '.join(f'{x:.1f}' for x in m['load_before'])} / "
        f"{', '.join(f'{x:.1f}' for x in m['load_after'])}. Command: `{m['command']}`.",
        "",
        "- a: `POST /v1/classify` with no policy or budget (the card's default policy);",
        "- b: the same service and process, `full_depth=true` (whole-page OCR, every layer);",
        "- c: `loadtests/baseline_app.py`, the same checkpoint's final classifier through "
        "transformers' `LayoutLMv3Model.forward` in one pass, same Tesseract, no exits.",
        "",
        *targets(r),
        "",
        *headline(r),
        "",
        *accuracy(r),
        "",
        f"![latency and accuracy per policy]({images['latency_accuracy']})",
        f"![exit layers]({images['exit_layers']})",
        f"![latency CDF]({images['latency_cdf']})",
        "",
        *saturation(r),
        "",
        *shadow(r),
        *batching(r),
        "",
        *sweep(r),
        "",
        f"![budget sweep]({images['budget_sweep']})",
        "",
        *policies(r),
        "",
        *overload(r),
        "",
        "Raw numbers: `results.json`; every request: `samples.jsonl`.",
    ]
    if m["notes"]:
        lines += ["", "Notes: " + "; ".join(m["notes"]) + "."]
    return "\n".join(lines) + "\n"
