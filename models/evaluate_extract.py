"""Field extraction measured: exact match and character F1 per field, the decoder's exit layers
per field, and its time at full depth against early exit, from one run.

    python -m models.evaluate_extract --run build/extract --corpus data/synth --out reports/extract

The default decoder policy (DEED's step confidence) is chosen on the val split: of the
candidate thresholds, the one with the fewest layer computations (decoder time follows them)
whose exact match is within a quarter point of full depth's there; the
test split then measures it once, beside full depth and MuE's decaying threshold. Real pages
whose fields were labelled by hand (`--real`, its fields.json) are read through their OCR and
reported per field at full depth and under the default policy."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from tqdm import tqdm

from models.checkpoint import dequantize, load_checkpoint, quantize
from models.decoder import DecoderConfig, MultiExitDecoder, Step
from models.decoding import DecoderPolicy, FullDepth, MueDecay, StepConfidence, generate
from models.extract_data import LABELS, Pair, cached_pairs, labelled_pairs
from models.fields import SEPARATOR, decode_fields, score
from models.inputs import tokenizer
from models.pretrained import WORD_EMBEDDINGS

log = logging.getLogger("docexit.evaluate_extract")
TAUS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
FIRST, MIDDLE = (0.9, 0.95, 0.98), 0.5
VAL_MARGIN = 0.0025  # a point on val is noisier than on test: pick well within it


def load_decoder(run: Path, words: torch.Tensor) -> tuple[MultiExitDecoder, list[float]]:
    """A run's decoder as a checkpoint stores it (int8, models.decoder_checkpoint): what is
    measured here is what ships."""
    meta = json.loads((run / "decoder.json").read_text())
    decoder = MultiExitDecoder(DecoderConfig.from_dict(meta["config"]))
    state = dequantize(quantize(load_file(str(run / "decoder.safetensors"))))
    state["embed.weight"] = state["head.weight"] = words
    decoder.load_state_dict(state)
    return decoder.eval(), list(meta["temperatures"])


@dataclass
class Outcome:
    pair: Pair
    predicted: dict[str, str]
    steps: list[Step]
    seconds: float


def decode(
    decoder: MultiExitDecoder, temps: list[float], pair: Pair, policy: DecoderPolicy
) -> Outcome:
    states = pair.states.float()[None]
    mask = torch.ones(states.shape[:2], dtype=torch.bool)
    g = generate(decoder, states, mask, pair.copy_ids[None], policy, temps)
    return Outcome(pair, decode_fields(g.tokens), g.steps, g.seconds)


def run_policy(
    decoder: MultiExitDecoder, temps: list[float], pairs: list[Pair], policy: DecoderPolicy
) -> list[Outcome]:
    return [decode(decoder, temps, p, policy) for p in tqdm(pairs, desc=policy.name, leave=False)]


def run_side_by_side(
    decoder: MultiExitDecoder, temps: list[float], pairs: list[Pair], policies: list[DecoderPolicy]
) -> dict[str, list[Outcome]]:
    """Every policy on every page, page by page, the order rotating: a machine that slows down
    for a while slows every policy alike, so their time ratios hold on a noisy machine."""
    out: dict[str, list[Outcome]] = {pol.name: [] for pol in policies}
    for i, pair in enumerate(tqdm(pairs, desc="side by side", leave=False)):
        for k in range(len(policies)):
            pol = policies[(i + k) % len(policies)]
            out[pol.name].append(decode(decoder, temps, pair, pol))
    return out


def layers_by_field(outcome: Outcome) -> dict[str, list[int]]:
    """Exit layers of the steps that spelled each generated field (key, value, separator)."""
    sep = tokenizer().convert_tokens_to_ids(SEPARATOR)
    segments: list[list[Step]] = [[]]
    for s in outcome.steps:
        segments[-1].append(s)
        if s.token == sep:
            segments.append([])
    out: dict[str, list[int]] = defaultdict(list)
    for segment in segments:
        fields = decode_fields([s.token for s in segment if s.token != sep])
        for key in fields:
            out[key] += [s.layer for s in segment]
    return out


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    per_field: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    layers: dict[str, list[int]] = defaultdict(list)
    for o in outcomes:
        for s in score(o.pair.label, o.predicted, o.pair.fields):
            per_field[s.key].append((s.exact, s.f1))
        for key, ls in layers_by_field(o).items():
            layers[key] += ls
    scores = [x for v in per_field.values() for x in v]
    return {
        "pages": len(outcomes),
        "fields": len(scores),
        "exact_match": statistics.fmean(e for e, _ in scores) if scores else float("nan"),
        "char_f1": statistics.fmean(f for _, f in scores) if scores else float("nan"),
        "per_field": {
            k: {
                "n": len(v),
                "exact_match": statistics.fmean(e for e, _ in v),
                "char_f1": statistics.fmean(f for _, f in v),
                "mean_exit_layer": statistics.fmean(layers[k]) if layers[k] else None,
            }
            for k, v in sorted(per_field.items())
        },
        "mean_exit_layer": statistics.fmean(s.layer for o in outcomes for s in o.steps),
        "layers_run": sum(s.layers_run for o in outcomes for s in o.steps),
        "decoder_seconds": sum(o.seconds for o in outcomes),
    }


def candidates(layers: int) -> dict[str, StepConfidence]:
    """The step-confidence policies the val split chooses from: one threshold at every exit,
    and a first exit held high with the middle exits at MIDDLE. A step that already went past
    the first exit has paid for its catch-up there; leaving at the next exit spares the deeper
    layers' catch-up of every earlier step."""
    out = {str(t): StepConfidence(t) for t in TAUS}
    middle = dict.fromkeys(range(2, layers), MIDDLE)
    out |= {f"{t}/{MIDDLE}": StepConfidence(t, taus=middle) for t in FIRST}
    return out


def choose_policy(
    decoder: MultiExitDecoder, temps: list[float], val: list[Pair]
) -> tuple[StepConfidence, dict[str, Any]]:
    """The candidate with the fewest layer computations whose exact match on val is within
    VAL_MARGIN of full depth's."""
    full = summarise(run_policy(decoder, temps, val, FullDepth()))
    options = candidates(decoder.config.num_layers)
    sweep = {k: summarise(run_policy(decoder, temps, val, pol)) for k, pol in options.items()}
    ok = [k for k, s in sweep.items() if s["exact_match"] >= full["exact_match"] - VAL_MARGIN]
    best = min(ok or [str(TAUS[-1])], key=lambda k: sweep[k]["layers_run"])
    return options[best], {"full_depth": full, "sweep": sweep, "chosen": best}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m models.evaluate_extract", description=__doc__)
    p.add_argument("--run", type=Path, default=Path("build/extract"))
    p.add_argument("--corpus", type=Path, default=Path("data/synth"))
    p.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    p.add_argument("--out", type=Path, default=Path("reports/extract"))
    p.add_argument("--per-class", type=int, default=None)
    p.add_argument("--real", type=Path, default=Path("data/realval"), help=f"holds {LABELS}")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_grad_enabled(False)
    encoder, _ = load_checkpoint(args.checkpoint)
    words = encoder.state_dict()[WORD_EMBEDDINGS].float()
    decoder, temps = load_decoder(args.run, words)
    length = decoder.config.max_length
    val = cached_pairs(encoder, args.corpus / "val", args.run / "val.pt", length, args.per_class)
    test = cached_pairs(encoder, args.corpus / "test", args.run / "test.pt", length, args.per_class)
    chosen, on_val = choose_policy(decoder, temps, val)
    policies: list[DecoderPolicy] = [
        FullDepth(),
        chosen,
        MueDecay(thr=chosen.tau, max_length=length),
    ]
    runs = run_side_by_side(decoder, temps, test, policies)
    results = {name: summarise(outcomes) for name, outcomes in runs.items()}
    full, early = results["full_depth"], results["step_confidence"]
    report = {
        "default_policy": {"name": chosen.name, "tau": chosen.tau, "taus": chosen.taus},
        "test": results,
        "val": on_val,
        "early_vs_full": {
            "exact_match_delta_points": 100 * (early["exact_match"] - full["exact_match"]),
            "time_ratio": early["decoder_seconds"] / full["decoder_seconds"],
            "layers_ratio": early["layers_run"] / full["layers_run"],
        },
    }
    if (args.real / LABELS).exists():
        real = labelled_pairs(encoder, args.real, length)
        on_real = run_side_by_side(decoder, temps, real, policies[:2])
        report["real"] = {name: summarise(outcomes) for name, outcomes in on_real.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info("%s", json.dumps(report["early_vs_full"]))


if __name__ == "__main__":
    main()
