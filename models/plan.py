"""The cascade's plan: which exits a request meets, in what order, in which stage, on which words,
and the names of the stages whose time it pays. One description, built from the model config,
read by the live cascade (models.runtime), the offline traces and threshold search
(models.traces, models.threshold_search), the operating points, the latency model and the
service, so that none of them parses an exit name or re-derives the order.

A request meets the exits in this order:
  vision stream (no OCR)   emb.vision_avg, vision.1 .. vision.L
  OCR                      the page's top band first (or the whole page)
  multimodal stream        emb.text_avg, emb.concat, mm.1 .. mm.L   (mm.L: the final classifier)
With a top band, the multimodal exits up to `band_layers` run on the band's words (all of them
when the band fills the text budget); only if none accepts is the whole page read, as full depth
reads it, and the multimodal stream run again on its words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Stage = Literal["vision", "multimodal"]

# Stages a request pays for besides the exits' own layers: the image embedding and OCR calls
# (the page's top band, the whole page). Named here once: the cascade's deadline hooks, the
# latency measurements, the card and the service all use these names.
EMBED = "embed"
OCR_PAGE = "ocr"
OCR_BAND = "ocr.band"
OCR_STAGES = (OCR_PAGE, OCR_BAND)

EMBEDDING_EXITS = ("vision_avg", "text_avg", "concat")


@dataclass(frozen=True)
class Exit:
    """One exit of the cascade."""

    name: str  # e.g. "vision.3", "emb.text_avg", "mm.6"
    stage: Stage
    layer: int  # encoder layers its stream has run when it answers (0: an embedding exit)


@dataclass(frozen=True)
class CascadePlan:
    exits: tuple[Exit, ...]  # in the order a request meets them
    band_layers: int  # multimodal layers run on a top band's words before the page is read

    @classmethod
    def build(
        cls,
        num_layers: int,
        embedding_exits: Sequence[str],
        vision_layers: Sequence[int],
        mm_layers: Sequence[int],
        *,
        gate_heads: bool = False,
    ) -> CascadePlan:
        """The plan of a model: its embedding exits (a gate model has no emb.concat: its shared
        classifier needs a d-wide state), a vision exit after each of `vision_layers` and a
        multimodal exit after each of `mm_layers` (which must include the last layer)."""
        bad = set(embedding_exits) - set(EMBEDDING_EXITS)
        if bad:
            raise ValueError(f"unknown embedding exits {sorted(bad)}; known: {EMBEDDING_EXITS}")
        if num_layers not in mm_layers:
            raise ValueError(f"the last layer ({num_layers}) must have the final exit")
        vision = [Exit("emb.vision_avg", "vision", 0)] if "vision_avg" in embedding_exits else []
        vision += [Exit(f"vision.{i}", "vision", i) for i in sorted(vision_layers)]
        text = [
            Exit(f"emb.{e}", "multimodal", 0)
            for e in ("text_avg", "concat")
            if e in embedding_exits and not (gate_heads and e == "concat")
        ]
        text += [Exit(f"mm.{i}", "multimodal", i) for i in sorted(mm_layers)]
        return cls(tuple(vision + text), max(1, num_layers // 2))

    # -- the exits ------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [e.name for e in self.exits]

    @property
    def vision(self) -> tuple[Exit, ...]:
        """Exits of the image-only stream, met before any OCR."""
        return tuple(e for e in self.exits if e.stage == "vision")

    @property
    def multimodal(self) -> tuple[Exit, ...]:
        """Exits of the multimodal stream, met after OCR; the last is the final classifier."""
        return tuple(e for e in self.exits if e.stage == "multimodal")

    @property
    def band(self) -> tuple[Exit, ...]:
        """The multimodal exits a top-band pass meets: the embedding exits and the layers up to
        band_layers."""
        return tuple(e for e in self.multimodal if e.layer <= self.band_layers)

    @property
    def final(self) -> Exit:
        return self.multimodal[-1]

    @property
    def layers(self) -> tuple[Exit, ...]:
        """The multimodal exits that follow an encoder layer (what full depth pays for)."""
        return tuple(e for e in self.multimodal if e.layer > 0)

    def exit(self, name: str) -> Exit:
        for e in self.exits:
            if e.name == name:
                return e
        raise KeyError(f"no exit {name!r} in this model; it has {self.names}")

    def stage(self, name: str) -> Stage:
        return self.exit(name).stage

    def layer(self, name: str) -> int:
        return self.exit(name).layer

    def index(self, name: str) -> int:
        """Position in the order a request meets the exits (orders depth across both streams:
        emb.text_avg has layer 0 but comes after OCR and every vision exit)."""
        return self.names.index(name)
