"""Field extraction measured: exact match and character F1 per field, the decoder's exit layers
per field, and its time at full depth against early exit, from one run.

    python -m models.evaluate_extract --run build/extract --corpus data/synth --out reports/extract

The default decoder policy (DEED's step confidence) is chosen on the val split: the threshold
with the fewest layers run whose exact match is within half a point of full depth's there; the
test split then measures it once, beside full depth and MuE's decaying threshold."""

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

from models.checkpoint import load_checkpoint
from models.decoder import DecoderConfig, MultiExitDecoder, Step
from models.decoding import DecoderPolicy, FullDepth, MueDecay, StepConfidence, generate
from models.extract_data import Pair, cached_pairs
from models.fields import SEPARATOR, decode_fields, score
from models.inputs import tokenizer
from models.pretrained import WORD_EMBEDDINGS

log = logging.getLogger("docexit.evaluate_extract")
TAUS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
VAL_MARGIN = 0.005  # a point on val is noisier than on test: pick within half of it


def load_decoder(run: Path, words: torch.Tensor) -> tuple[MultiExitDecoder, list[float]]:
    meta = json.loads((run / "decoder.json").read_text())
    decoder = MultiExitDecoder(DecoderConfig.from_dict(meta["config"]))
    state = load_file(str(run / "decoder.safetensors"))
    state["embed.weight"] = state["head.weight"] = words
    decoder.load_state_dict(state)
    return decoder.eval(), list(meta["temperatures"])


@dataclass
class Outcome:
    pair: Pair
    predicted: dict[str, str]
    steps: list[Step]
    seconds: float


def run_policy(
    decoder: MultiExitDecoder, temps: list[float], pairs: list[Pair], policy: DecoderPolicy
) -> list[Outcome]:
    out = []
    for p in tqdm(pairs, desc=policy.name, leave=False):
        vocab = torch.tensor(p.vocab)
        g = generate(decoder, p.states.float()[None], p.mask[None], policy, temps, vocab=vocab)
        out.append(Outcome(p, decode_fields(g.tokens), g.steps, g.seconds))
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


def choose_tau(
    decoder: MultiExitDecoder, temps: list[float], val: list[Pair]
) -> tuple[float, dict[str, Any]]:
    full = summarise(run_policy(decoder, temps, val, FullDepth()))
    sweep = {}
    for tau in TAUS:
        sweep[tau] = summarise(run_policy(decoder, temps, val, StepConfidence(tau)))
    ok = [t for t in TAUS if sweep[t]["exact_match"] >= full["exact_match"] - VAL_MARGIN]
    tau = min(ok or [TAUS[-1]], key=lambda t: sweep[t]["layers_run"])
    return tau, {"full_depth": full, "sweep": {str(t): s for t, s in sweep.items()}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m models.evaluate_extract", description=__doc__)
    p.add_argument("--run", type=Path, default=Path("build/extract"))
    p.add_argument("--corpus", type=Path, default=Path("data/synth"))
    p.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    p.add_argument("--out", type=Path, default=Path("reports/extract"))
    p.add_argument("--per-class", type=int, default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_grad_enabled(False)
    encoder, _ = load_checkpoint(args.checkpoint)
    words = encoder.state_dict()[WORD_EMBEDDINGS].float()
    decoder, temps = load_decoder(args.run, words)
    length = decoder.config.max_length
    val = cached_pairs(encoder, args.corpus / "val", args.run / "val.pt", length, args.per_class)
    test = cached_pairs(encoder, args.corpus / "test", args.run / "test.pt", length, args.per_class)
    tau, on_val = choose_tau(decoder, temps, val)
    policies: list[DecoderPolicy] = [
        FullDepth(),
        StepConfidence(tau),
        MueDecay(thr=tau, max_length=length),
    ]
    results = {pol.name: summarise(run_policy(decoder, temps, test, pol)) for pol in policies}
    full, early = results["full_depth"], results["step_confidence"]
    report = {
        "default_policy": {"name": "step_confidence", "tau": tau},
        "test": results,
        "val": on_val,
        "early_vs_full": {
            "exact_match_delta_points": 100 * (early["exact_match"] - full["exact_match"]),
            "time_ratio": early["decoder_seconds"] / full["decoder_seconds"],
            "layers_ratio": early["layers_run"] / full["layers_run"],
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info("%s", json.dumps(report["early_vs_full"]))


if __name__ == "__main__":
    main()
