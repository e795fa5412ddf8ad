"""Measure abstention: every OOD score of models.ood at the answering exit of the checkpoint's
default policy, in-class pages against the out-of-scope folder; the threshold set on validation
pages that are not the real validation folder.

    python -m models.ood_eval --checkpoint models/checkpoints/default [--write-card]

Pages are read as the cascade reads them (models.operating_points.validation: the top band's
OCR first, the whole page only when no exit accepts), from OCR stored beside each page: the
threshold pages (data/realcal, data/corpus2/val) have it; the out-of-scope pages get it beside
them, and data/realval's pages in a view folder under build/ood (links to the pages and their
stored whole-page OCR, plus the top band's), so that the committed folder stays as it is. The
feature distance's statistics are fit on training pages (data/realtrain, data/corpus2/train), or
with --reuse-stats read back from an earlier fit with the same weights.
The score with the best AUROC between the threshold pages and the out-of-scope folder is
chosen, never by the real validation folder; its threshold abstains on at most `--abstain` of
the threshold pages. Writes reports/ood/report.json and reports/ood/README.md; with
--write-card, the card's `abstention` (and, for a feature score, its statistics beside the
weights: models.ood_features.STATS)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from models.card import Abstention, Card
from models.checkpoint import load_checkpoint
from models.collect import ExitOutputs, collect, val_pages
from models.dataset import Roots, list_pages
from models.multiexit import MultiExitLayoutLMv3
from models.ood import CONTRAST, FEATURE_SCORES, KINDS, abstained, auroc, score, threshold_at
from models.ood_features import STATS, FeatureStats
from models.ood_fit import (
    FIT_DATA,
    FIT_PER_CLASS,
    NEGATIVES,
    OLD_FIT_PER_CLASS,
    SEP,
    ensure_ocr,
    fit_features,
    link_view,
)
from models.operating_points import band_filled
from models.policies import Policy, StepView, first_exit, vision_exits_to_run
from models.report_ood import write_readme
from models.traces import Trace, build_traces

log = logging.getLogger("docexit.ood_eval")
THRESHOLD_DATA = [Path("data/realcal"), Path("data/corpus2/val")]


@dataclass
class Folders:
    realval: Path  # in-class pages the threshold never sees
    outofscope: Path
    threshold: list[Path]  # in-class validation pages the threshold is set on
    fit: list[Path]  # training pages the feature statistics are fit on
    fit_per_class: list[int]  # at most this many pages a class, one per `fit` folder
    negatives: Path | None = None  # out-of-scope training pages (never the measured folder)
    stats: Path | None = None  # statistics fit earlier on `fit` (the weights unchanged): reused


def traces_with_features(model: MultiExitLayoutLMv3, card: Card, data: Roots) -> list[Trace]:
    """The pages of `data` as the cascade meets them (models.operating_points.validation), each
    exit's view carrying its pooled state too."""
    band = card.ocr_band

    def outputs(band: float | None = None) -> ExitOutputs:
        return collect(model, val_pages(model, data, None, band), features=True)

    full = outputs()
    band_out = None if band is None else outputs(band)
    filled = [False] * len(full.labels) if band is None else band_filled(model, data, None, band)
    return build_traces(full, band_out, filled, card.temperatures, model.config.plan)


def answers(
    model: MultiExitLayoutLMv3, card: Card, policy: Policy, data: Roots
) -> tuple[list[list[StepView]], list[str]]:
    """Per page of `data` under `policy`: the exits it met, the answering one last (what the
    live cascade's Prediction.steps holds: no vision exit the policy never runs), and its
    file name."""
    traces = traces_with_features(model, card, data)
    met = []
    for t in traces:
        run = set(vision_exits_to_run(policy, [v.name for v in t.views[: t.vision]]))
        views = t.views[: first_exit(policy, t.views) + 1]
        met.append([v for v in views if v.stage != "vision" or v.name in run])
    return met, [p.name for p, _ in list_pages(data)]


def evaluate(
    checkpoint: Path,
    data: Folders,
    abstain: float,
    work: Path,
    workers: int = 2,
) -> tuple[dict[str, Any], FeatureStats]:
    model, card = load_checkpoint(checkpoint)
    default = card.default_policy()  # what a request naming nothing gets (certified, if any)
    if default is None or (policy := default.build()) is None:
        raise SystemExit(f"{checkpoint}: the card's default is full depth, no early exit")
    real_view = link_view(data.realval, work / "views" / "realval", flat=False)
    steps = tqdm(total=6, desc="ood", unit="step")
    ensure_ocr(data.outofscope, card.ocr_band, workers)
    oos_view = link_view(data.outofscope, work / "views" / "outofscope", flat=True)
    ensure_ocr(real_view, card.ocr_band, workers)
    steps.update(2)
    if data.stats is not None:
        stats = FeatureStats.load(data.stats)
    else:
        stats = fit_features(model, data.fit, data.fit_per_class, workers, data.negatives, work)
    steps.update()
    sets = {}
    for name, roots in (("threshold", data.threshold), ("realval", real_view), ("oos", oos_view)):
        sets[name] = answers(model, card, policy, roots)
        steps.update()
    steps.close()
    temps = card.temperatures
    kinds = [k for k in KINDS if k != CONTRAST or stats.has_negatives]
    scored = {
        kind: {
            n: [score(kind, m[-1], temps, stats, m) for m in met] for n, (met, _) in sets.items()
        }
        for kind in kinds
    }
    oos_kinds = [n.split(SEP)[0] for n in sets["oos"][1]]
    report: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "policy": default.spec(),
        "pages": {
            "threshold": len(sets["threshold"][0]),
            "realval": len(sets["realval"][0]),
            "outofscope": len(oos_kinds),
            "outofscope_kinds": {k: oos_kinds.count(k) for k in sorted(set(oos_kinds))},
        },
        "data": {
            "threshold": [str(p) for p in data.threshold],
            "realval": str(data.realval),
            "outofscope": str(data.outofscope),
            "features_fit": [str(p) for p in data.fit],
            "features_fit_per_class": data.fit_per_class,
            "features_negatives": None if data.negatives is None else str(data.negatives),
        },
        "abstain_target": abstain,
        "scores": {},
        "answering_exits": {
            n: {e: [m[-1].name for m in met].count(e) for e in card.exits}
            for n, (met, _) in sets.items()
        },
    }

    def by_kind(values: list[float], k: str) -> list[float]:
        return [x for x, o in zip(values, oos_kinds, strict=True) if o == k]

    for kind, s in scored.items():
        threshold = threshold_at(s["threshold"], abstain)
        report["scores"][kind] = {
            "auroc_threshold_pages": auroc(s["threshold"], s["oos"]),
            "auroc_realval": auroc(s["realval"], s["oos"]),
            "auroc_realval_by_kind": {
                k: auroc(s["realval"], by_kind(s["oos"], k)) for k in sorted(set(oos_kinds))
            },
            "threshold": threshold,
            "abstained_threshold_pages": abstained(s["threshold"], threshold),
            "abstained_realval": abstained(s["realval"], threshold),
            "caught_outofscope": abstained(s["oos"], threshold),
            "caught_by_kind": {
                k: abstained(by_kind(s["oos"], k), threshold) for k in sorted(set(oos_kinds))
            },
        }
    # Chosen on the threshold pages, never on the real validation folder.
    chosen = max(report["scores"], key=lambda k: report["scores"][k]["auroc_threshold_pages"])
    report["chosen"] = chosen
    return report, stats


def reused_stats(checkpoint: Path, data: Folders) -> Folders:
    """`data` reading the statistics saved beside the weights, checked against the card's hash
    and with the training pages they were fit on."""
    recorded = Card.read(checkpoint).abstention
    if recorded is None or recorded.features_sha256 is None:
        raise SystemExit(f"{checkpoint}: the card records no feature statistics to reuse")
    FeatureStats.load(checkpoint / STATS, recorded.features_sha256)  # refuses a mismatch
    fit = [Path(p) for p in recorded.features_data]
    caps = recorded.features_per_class or [OLD_FIT_PER_CLASS] * len(fit)
    negatives = None if recorded.features_negatives is None else Path(recorded.features_negatives)
    return dataclasses.replace(
        data, fit=fit, fit_per_class=caps, negatives=negatives, stats=checkpoint / STATS
    )


def abstention(report: dict[str, Any], features_sha256: str | None) -> Abstention:
    chosen = report["scores"][report["chosen"]]
    return Abstention(
        features_sha256=features_sha256,
        features_data=report["data"]["features_fit"] if features_sha256 else [],
        features_per_class=report["data"]["features_fit_per_class"] if features_sha256 else [],
        features_negatives=report["data"]["features_negatives"] if features_sha256 else None,
        score=report["chosen"],
        threshold=chosen["threshold"],
        data=report["data"]["threshold"],
        pages=report["pages"]["threshold"],
        abstain_target=report["abstain_target"],
        auroc_realval=chosen["auroc_realval"],
        abstained_realval=chosen["abstained_realval"],
        outofscope=report["data"]["outofscope"],
        outofscope_pages=report["pages"]["outofscope"],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.ood_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    parser.add_argument("--realval", type=Path, default=Path("data/realval"))
    parser.add_argument("--outofscope", type=Path, default=Path("data/outofscope"))
    parser.add_argument("--threshold-data", type=Path, nargs="+", default=THRESHOLD_DATA)
    parser.add_argument("--fit-data", type=Path, nargs="+", default=FIT_DATA)
    parser.add_argument(
        "--fit-per-class",
        type=int,
        nargs="+",
        default=FIT_PER_CLASS,
        help="training pages a class, one number per --fit-data folder (or one for all)",
    )
    parser.add_argument(
        "--abstain", type=float, default=0.02, help="share of threshold pages abstained on"
    )
    parser.add_argument(
        "--negatives",
        type=Path,
        default=NEGATIVES,
        help="out-of-scope training pages for the contrast score (make ood-negatives); "
        "skipped where the folder is absent",
    )
    parser.add_argument("--work", type=Path, default=Path("build/ood"))
    parser.add_argument("--out", type=Path, default=Path("reports/ood"))
    parser.add_argument("--workers", type=int, default=2, help="Tesseract processes")
    parser.add_argument("--write-card", action="store_true", help="record the chosen abstention")
    parser.add_argument(
        "--reuse-stats",
        action="store_true",
        help="the feature statistics beside the weights, as the card's abstention records them "
        "(fit on --fit-data by an earlier run with these weights), instead of fitting again",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    caps = args.fit_per_class
    if len(caps) == 1:
        caps = caps * len(args.fit_data)
    if len(caps) != len(args.fit_data):
        parser.error(f"--fit-per-class: {len(caps)} numbers for {len(args.fit_data)} folders")
    negatives = args.negatives if args.negatives.is_dir() else None
    if negatives is None:
        log.info("no %s: the contrast score is not tried", args.negatives)
    data = Folders(
        args.realval, args.outofscope, args.threshold_data, args.fit_data, caps, negatives
    )
    if args.reuse_stats:
        data = reused_stats(args.checkpoint, data)
    report, stats = evaluate(args.checkpoint, data, args.abstain, args.work, args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_readme(args.out / "README.md", report)
    if args.write_card:
        # Only a feature score needs the statistics beside the weights.
        sha = None
        if report["chosen"] in FEATURE_SCORES:
            sha = stats.save(args.checkpoint / STATS)
        card = Card.read(args.checkpoint)
        card.updated(abstention=abstention(report, sha)).write(args.checkpoint)
    log.info("chosen %s: %s", report["chosen"], report["scores"][report["chosen"]])


if __name__ == "__main__":
    main()
