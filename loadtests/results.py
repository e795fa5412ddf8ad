"""The bench's numbers from its raw samples, and the acceptance targets met or not."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from loadtests import overload
from loadtests.client import Sample
from loadtests.phases import KEYS
from loadtests.stats import mean, paired, pct, ratio, sign_test, summary

MAX_WALL_S = 20 * 60
LATENCY_STATS = ("mean_ms", "p50_ms", "p95_ms", "p99_ms")


def of(samples: list[Sample], key: str) -> list[Sample]:
    return [s for s in samples if s.variant == key]


def p95_of(samples: list[Sample], key: str) -> float:
    return pct([1000.0 * s.latency_s for s in of(samples, key) if s.ok], 95)


def throughput_of(saturation: dict[str, Any], key: str) -> float:
    chunks = saturation[key]["chunks"]
    seconds = sum(w["seconds"] for w in chunks)
    return sum(w["answered"] for w in chunks) / seconds if seconds else math.nan


def all_samples(raw: dict[str, Any]) -> Iterator[tuple[str, list[Sample]]]:
    yield "compare", raw["compare"]
    yield "accuracy", raw.get("accuracy", [])
    if "shadow" in raw:
        yield "shadow", raw["shadow"]["a"]["samples"] + raw["shadow"]["a0"]["samples"]
    if "batching" in raw:
        yield "batching", raw["batching"]["a0"]["samples"] + raw["batching"]["ab"]["samples"]
    for key in KEYS:
        yield "saturation", raw["saturation"][key]["samples"]
    yield "floor", raw["floor"]["samples"]
    yield "sweep", raw["sweep"]
    yield "policies", raw["policies"]
    for o in raw["overload"]:
        label = f"-{o['label'].replace(' ', '-')}" if o.get("label") else ""
        yield f"overload-{o['factor']:g}x{label}", o["samples"]


def _compare(samples: list[Sample]) -> dict[str, Any]:
    out: dict[str, Any] = {k: summary(of(samples, k)) for k in KEYS}
    out["paired"] = paired(samples, KEYS)
    for other in ("b", "c"):
        out[f"a/{other}"] = {s: ratio(out["a"][s], out[other][s]) for s in LATENCY_STATS}
    return out


def _accuracy(raw: dict[str, Any]) -> dict[str, Any]:
    """a against b on every page (the compare phase's answers and the accuracy phase's)."""
    samples = raw["compare"] + raw.get("accuracy", [])
    out = paired(samples, ("a", "b"))
    worse, better = out.get("a_wrong_b_right", 0), out.get("a_right_b_wrong", 0)
    out["delta_points"] = 100.0 * (out["accuracy_a"] - out["accuracy_b"])
    out["sign_test_p"] = sign_test(worse, better)
    answered = [s for s in of(samples, "a") if s.ok]
    out["a_certified_share"] = mean(float(bool(s.certified)) for s in answered)
    return out


def _paired_phase(raw: dict[str, Any], phase: str, keys: tuple[str, str]) -> dict[str, Any]:
    """Throughput and latency of both variants of a phase run in alternating chunks."""
    ph = raw[phase]
    out: dict[str, Any] = {"concurrency": ph["concurrency"], "pages": ph["pages"]}
    for k in keys:
        out[k] = {"throughput": throughput_of(ph, k), **summary(ph[k]["samples"])}
    return out


def _shadow(raw: dict[str, Any]) -> dict[str, Any] | None:
    """p95 at saturation with the shadow lane at its default rate (a) and off (a0)."""
    if "shadow" not in raw:
        return None
    out = _paired_phase(raw, "shadow", ("a", "a0"))
    out["p95_ratio"] = ratio(out["a"]["p95_ms"], out["a0"]["p95_ms"])
    out["lane"] = raw["shadow"].get("lane", {})
    return out


def _batching(raw: dict[str, Any]) -> dict[str, Any] | None:
    """Throughput and latency at saturation with every page alone (a0) and batched (ab)."""
    if "batching" not in raw:
        return None
    out = _paired_phase(raw, "batching", ("a0", "ab"))
    out["throughput_ratio"] = ratio(out["ab"]["throughput"], out["a0"]["throughput"])
    out["p95_ratio"] = ratio(out["ab"]["p95_ms"], out["a0"]["p95_ms"])
    out["max_batch"] = raw["batching"].get("max_batch")
    return out


def _saturation(sat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"concurrency": sat["concurrency"], "pages": sat["pages"]}
    for k in KEYS:
        out[k] = {
            "throughput": throughput_of(sat, k),
            "chunks": sat[k]["chunks"],
            "under_load": summary(sat[k]["samples"]),
        }
    for other in ("b", "c"):
        out[f"a/{other}"] = ratio(out["a"]["throughput"], out[other]["throughput"])
    return out


def _sweep(raw: dict[str, Any]) -> dict[str, Any]:
    floor, smallest = raw["floor"], raw["floor"]["smallest_useful_ms"]
    budgets = []
    for b in sorted({s.budget_ms for s in raw["sweep"] if s.budget_ms}):
        sm = summary([s for s in raw["sweep"] if s.budget_ms == b])
        budgets.append({"budget_ms": b, "target": b >= smallest, "within": sm["p95_ms"] <= b, **sm})
    return {
        "probe_budget_ms": 1,
        "floor": summary(floor["samples"]),
        "smallest_useful_ms": smallest,
        "full_depth_p95_ms": p95_of(raw["compare"], "b"),
        "budgets": budgets,
    }


def _policies(raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, point in raw["policy_points"].items():
        out[key] = {
            "policy": point["policy"],
            "card_accuracy": point.get("accuracy"),
            "card_end_to_end_ms": 1000.0 * float(point.get("end_to_end_s", math.nan)),
            **summary([s for s in raw["policies"] if s.variant == key]),
        }
    return out


def _target(name: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": name, "goal": goal, "measured": measured, "met": bool(met)}


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    c, sat, sw, acc = r["compare"], r["saturation"], r["sweep"], r["accuracy"]
    x = sat["a/b"]
    lat = c["a/b"]["mean_ms"]
    delta = acc["delta_points"]
    held = [b for b in sw["budgets"] if b["target"]]
    missed = [f"{b['budget_ms']} ms (p95 {b['p95_ms']:.0f})" for b in held if not b["within"]]
    errors = sum(o["other_errors"] for o in r["overload"])
    wall = r["meta"]["wall_s"]
    return [
        _target("throughput a/b", ">= 2.0x", f"{x:.2f}x", x >= 2.0),
        _target(
            "mean end-to-end latency a/b, accuracy a - b",
            "<= 0.5, >= -1 point",
            f"{lat:.3f}, {delta:+.1f} points on {acc['pages']} pages "
            f"(sign test p = {acc['sign_test_p']:.2f})",
            lat <= 0.5 and delta >= -1.0,
        ),
        _target("pages a and b both answered", ">= 256", str(acc["pages"]), acc["pages"] >= 256),
        _target(
            "p95 within the budget (budgets >= smallest useful)",
            f"every budget >= {sw['smallest_useful_ms']} ms",
            f"{len(held) - len(missed)} of {len(held)} held"
            + (f"; missed: {', '.join(missed)}" if missed else ""),
            bool(held) and not missed,
        ),
        _target("overload: errors other than 503", "0", str(errors), errors == 0),
        *overload.targets(r),
        _target("bench wall time", "<= 20 min", f"{wall / 60:.1f} min", wall <= MAX_WALL_S),
    ]


def assemble(raw: dict[str, Any], meta: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    r: dict[str, Any] = {
        "meta": meta,
        "compare": _compare(raw["compare"]),
        "accuracy": _accuracy(raw),
        "shadow": _shadow(raw),
        "batching": _batching(raw),
        "saturation": _saturation(raw["saturation"]),
        "sweep": _sweep(raw),
        "policies": _policies(raw),
        "overload": overload.numbers(raw, p95_of(raw["compare"], "a")),
        "card_points": [
            {**p["policy"], "accuracy": p.get("accuracy"), "end_to_end_s": p.get("end_to_end_s")}
            for p in model.get("operating_points", [])
        ],
        "exits": model.get("exits", []),
    }
    return r


def with_targets(r: dict[str, Any]) -> dict[str, Any]:
    """The targets need the final wall time: computed last."""
    r["targets"] = targets(r)
    return r
