"""The strict policy schema of requests and the admin API is derived from the policy dataclasses:
each family's fields, types and ranges, nothing mirrored by hand."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from models.policies import POLICIES, Range
from service.errors import ProblemError
from service.policy_spec import SCHEMAS, build_policy

EXITS = ["mm.1"]


def _range(hint: Any) -> Range:
    if get_origin(hint) is dict:  # per-exit thresholds: the range of each value
        hint = get_args(hint)[1]
    return next(m for m in hint.__metadata__ if isinstance(m, Range))


def _spec(family: str, knobs: list[str], knob: str, value: float) -> dict[str, Any]:
    """A spec of `family` with `knob` at `value` and every other knob at a valid 0.5."""
    v: Any = int(value) if family == "patience" and math.isfinite(value) else value
    if family == "per_exit":
        v = {"mm.1": value}
    return {"name": family, **{k: 0.5 for k in knobs if k != knob}, knob: v}


@pytest.mark.parametrize("family", sorted(POLICIES))
def test_each_policy_field_is_required_and_bounded_by_its_range(family: str) -> None:
    cls = POLICIES[family]
    hints = get_type_hints(cls, include_extras=True)
    knobs = [f.name for f in dataclasses.fields(cls) if f.name != "name"]
    assert set(SCHEMAS[family].model_fields) == {"name", *knobs}
    for knob in knobs:
        bounds = _range(hints[knob])
        good = _spec(family, knobs, knob, bounds.le)
        assert build_policy(good, EXITS, ("policy",)).name == family
        for bad in (bounds.le + 1, bounds.ge - 1, math.inf):
            with pytest.raises(ProblemError):
                build_policy(_spec(family, knobs, knob, bad), EXITS, ("policy",))
        with pytest.raises(ProblemError):  # every field is required
            build_policy({k: v for k, v in good.items() if k != knob}, EXITS, ("policy",))
