"""A client's explicit policy ({"name": ..., knob}) checked before it runs: per request and as the
admin-set default, the same rules.

The policy dataclasses (models.policies) take whatever they are given, so a knob of the wrong type
("0.9", null, NaN) would only fail mid-request, in a comparison or in the JSON answer, as a 500;
and a default policy that no request can run would fail every request that uses it. So: a known
family, every field it takes and no other, of its type (no coercion), finite, in range, and
per-exit thresholds that name the checkpoint's exits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from models.policies import Policy, make_policy
from service.errors import invalid

# Thresholds compare with calibrated probabilities (and similarities with cosines): finite, and
# a threshold above 1 already means "never exits here", so nothing larger is meaningful.
Threshold = Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)]
Cosine = Annotated[float, Field(ge=-1.0, le=2.0, allow_inf_nan=False)]
_STRICT = ConfigDict(extra="forbid", strict=True)


class _Global(BaseModel):
    model_config = _STRICT
    name: Literal["global"]
    tau: Threshold


class _Gate(BaseModel):
    model_config = _STRICT
    name: Literal["gate"]
    tau: Threshold


class _PerExit(BaseModel):
    model_config = _STRICT
    name: Literal["per_exit"]
    taus: dict[str, Threshold]


class _Similarity(BaseModel):
    model_config = _STRICT
    name: Literal["similarity"]
    image: Cosine
    text: Cosine


class _Patience(BaseModel):
    model_config = _STRICT
    name: Literal["patience"]
    k: int = Field(ge=1, le=64)


Spec = _Global | _Gate | _PerExit | _Similarity | _Patience
_SPEC: TypeAdapter[Spec] = TypeAdapter(Annotated[Spec, Field(discriminator="name")])


def build_policy(spec: dict[str, Any], exits: list[str], where: tuple[str, ...]) -> Policy:
    """The policy a client described, or 422 with field errors located under `where` (e.g.
    ("body", "policy") for the admin API, ("policy",) for a request's form field)."""
    try:
        parsed = _SPEC.validate_python(spec)
    except ValidationError as exc:
        found = [
            {"loc": [*where, *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False)
        ]
        raise invalid(f"policy {spec.get('name')!r} is not valid", found) from exc
    if isinstance(parsed, _PerExit):
        unknown = sorted(set(parsed.taus) - set(exits))
        if unknown:
            raise invalid(f"the checkpoint has no exits {unknown}; it has {exits}")
    knob = parsed.model_dump(exclude={"name"})
    return make_policy(parsed.name, knob)
