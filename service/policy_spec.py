"""A client's explicit policy ({"name": ..., knob}) checked before it runs: per request and as the
admin-set default, the same rules. The schema is derived from the policy dataclasses themselves
(models.policies: their fields, types and Range bounds), so there is one description of each.

The policy dataclasses (models.policies) take whatever they are given, so a knob of the wrong type
("0.9", null, NaN) would only fail mid-request, in a comparison or in the JSON answer, as a 500;
and a default policy that no request can run would fail every request that uses it. So: a known
family, every field it takes and no other, of its type (no coercion), finite, in range, and
per-exit thresholds that name the checkpoint's exits."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from models.policies import POLICIES, Policy, Range, make_policy
from service.errors import invalid

_STRICT = ConfigDict(extra="forbid", strict=True)


def _strict_type(hint: Any) -> Any:
    """A policy field's type for pydantic: its Range as bounds, and floats finite."""
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        limits = [m for m in meta if isinstance(m, Range)]
        finite = False if base is float else None
        ge, le = (limits[0].ge, limits[0].le) if limits else (None, None)
        return Annotated[base, Field(ge=ge, le=le, allow_inf_nan=finite)]
    if get_origin(hint) is dict:
        key, value = get_args(hint)
        return dict.__class_getitem__((key, _strict_type(value)))
    return hint


def _schema(family: type[Any]) -> type[BaseModel]:
    """The strict request schema of one policy dataclass: its name, and every other field it
    takes, required, of its type and range."""
    hints = get_type_hints(family, include_extras=True)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(family):
        if f.name == "name":
            fields["name"] = (Literal.__getitem__(f.default), ...)
        else:
            fields[f.name] = (_strict_type(hints[f.name]), ...)
    return create_model(f"{family.__name__}Spec", __config__=_STRICT, **fields)


SCHEMAS = {name: _schema(family) for name, family in POLICIES.items()}
_ONE_OF: Any = Union.__getitem__(tuple(SCHEMAS.values()))
_SPEC: TypeAdapter[Any] = TypeAdapter(Annotated[_ONE_OF, Field(discriminator="name")])


def build_policy(spec: dict[str, Any], exits: list[str], where: tuple[str, ...]) -> Policy:
    """The policy a client described, or 422 with field errors located under `where` (e.g.
    ("body", "policy") for the admin API, ("policy",) for a request's form field)."""
    try:
        parsed: Any = _SPEC.validate_python(spec)
    except ValidationError as exc:
        found = [
            {"loc": [*where, *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False)
        ]
        raise invalid(f"policy {spec.get('name')!r} is not valid", found) from exc
    if parsed.name == "per_exit":
        unknown = sorted(set(parsed.taus) - set(exits))
        if unknown:
            raise invalid(f"the checkpoint has no exits {unknown}; it has {exits}")
    knob = parsed.model_dump(exclude={"name"})
    return make_policy(parsed.name, knob)
