"""Schemathesis against the service's own OpenAPI document, in process (the tiny random
checkpoint and the fake OCR of tests/service, so a case costs milliseconds).

Every operation gets generated cases, valid (positive) and invalid (negative); the admin routes
both without a token and with the right one, so that their bodies get past the token check to
validation; /v1/classify also with real small pages (PNG, JPEG, TIFF, PDF and some formats it
refuses) and with policies and OCR words aimed at the service's own parsing, which the schema
describes only as strings. Every answer must be one the document promises: no 5xx, a documented
status with its documented content type, headers and body schema; invalid input a 4xx.
Deterministic (derandomized Hypothesis, no example database), about 1,200 cases."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models.policies import POLICIES
from service.app import create_app
from service.docs import REQUEST_ID
from tests.service.conftest import (
    LATENCY,
    TOKEN,
    FakeOcr,
    loader_for,
    make_settings,
    save_tiny_checkpoint,
    wait_ready,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# negative_data_rejection only judges generated negative cases (it needs their metadata).
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
AUTH = {"authorization": f"Bearer {TOKEN}"}
EXITS = [name for name in LATENCY["stages"] if name != "embed"]
MIN_TOTAL = 1000
# Python's default, read before Hypothesis raises it (see production_recursion_limit).
RECURSION_LIMIT = sys.getrecursionlimit()

# Cases per (operation, variant). Operations without parameters have a single distinct request,
# which Hypothesis runs once and stops.
POSITIVE, NEGATIVE = 40, 30
CLASSIFY_POSITIVE, CLASSIFY_NEGATIVE, CLASSIFY_PAGES = 150, 100, 150
ADMIN_POSITIVE, ADMIN_NEGATIVE, ADMIN_POLICIES = 40, 25, 100
AFTERWARDS = 60  # pages classified again under whatever config the admin cases left in force


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,  # the same cases on every run and every machine
        database=None,  # nothing written into the checkout
        deadline=None,  # a shared 2-core machine: timing is not what this test is about
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


# What a client may send as `policy`: the schema says "a string", the service parses it. Each
# policy gets exactly the knob fields it takes (any other set is refused before the knob's
# values are looked at), with values of every JSON type, valid ones first.
KNOB_VALUES = st.one_of(
    st.floats(0, 1.2),
    st.integers(1, 4),
    st.dictionaries(st.sampled_from([*EXITS, "nope"]), st.floats(0, 1.2), max_size=3),
    st.none(),
    st.booleans(),
    st.integers(-3, 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.floats(0, 1), max_size=2),
    st.dictionaries(
        st.sampled_from([*EXITS, "nope"]),
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2), st.none()),
        max_size=3,
    ),
)
KNOB_FIELDS = {
    name: [f.name for f in dataclasses.fields(cls) if f.name != "name"]
    for name, cls in POLICIES.items()
}


@st.composite
def policy_specs(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from([*POLICIES, "full_depth", "nope"]))
    spec: dict[str, Any] = {"name": name}
    for key in KNOB_FIELDS.get(name, []):
        spec[key] = draw(KNOB_VALUES)
    if draw(st.integers(0, 5)) == 0:  # a field too many, or one the policy does not take
        spec[draw(st.sampled_from(["tau", "taus", "k", "image", "text", "x"]))] = draw(KNOB_VALUES)
    return spec


POLICY_NAMES = st.sampled_from([*POLICIES, "auto", "card", "full_depth", "nope", ""])
# JSON nested deeper than Python's parser recurses (1,000), within the fields' length limits.
DEEP_JSON = st.integers(1500, 2000).map(lambda n: '{"name": ' + "[" * n + "]" * n + "}")


@st.composite
def pages(draw: st.DrawFn) -> tuple[bytes, str]:
    """A small real page, or a file in a format the service refuses; and its content type."""
    size = (draw(st.integers(1, 160)), draw(st.integers(1, 160)))
    mode = draw(st.sampled_from(["L", "RGB", "1"]))
    # A few drawn pixels scaled up: deterministic content without drawing kilobytes.
    cells = draw(st.binary(min_size=16, max_size=16))
    image = Image.frombytes("L", (4, 4), cells).resize(size, Image.Resampling.NEAREST)
    image = image.convert(mode)
    fmt = draw(st.sampled_from(["PNG", "PNG", "PNG", "JPEG", "TIFF", "PDF", "GIF", "BMP"]))
    buf = io.BytesIO()
    if fmt == "TIFF" and draw(st.booleans()):  # two frames: `page` 1 exists
        image.save(buf, fmt, save_all=True, append_images=[image])
    else:
        image.save(buf, fmt)
    return buf.getvalue(), f"image/{fmt.lower()}"


def ordered(xy: list[float]) -> list[float]:
    (x0, x1), (y0, y1) = sorted(xy[:2]), sorted(xy[2:])
    return [x0, y0, x1, y1]


@st.composite
def ocr_json(draw: st.DrawFn) -> str:
    """Words with their boxes, mostly well-formed; some with coordinates no page has."""
    box = st.one_of(
        st.lists(st.floats(0, 2000), min_size=4, max_size=4).map(ordered),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4),
    )
    word = st.fixed_dictionaries({"text": st.text(max_size=12), "box": box})
    value: dict[str, Any] = {"words": draw(st.lists(word, max_size=4))}
    if draw(st.booleans()):
        value["size"] = draw(st.lists(st.integers(-2, 10**12), min_size=2, max_size=2))
    return json.dumps(value)  # NaN and Infinity as Python writes them: a client might too


def page_cases(operation: APIOperation) -> st.SearchStrategy[Case]:
    """Classify requests a real client could send: a real page, plausible knobs."""

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        data, content_type = draw(pages())
        body: dict[str, Any] = {"file": data, "page": draw(st.sampled_from([0] * 6 + [1, 2]))}
        if draw(st.integers(0, 3)) == 0:  # full depth ignores the policy: not too often
            body["full_depth"] = draw(st.sampled_from(["true", "false"]))
        if draw(st.booleans()):
            body["latency_budget_ms"] = draw(st.integers(1, 600_000))
        # sampled_from picks about evenly (integers() favour their bounds)
        policy = draw(st.sampled_from(["none", "name", "spec", "spec", "spec", "deep"]))
        if policy == "name":
            body["policy"] = draw(POLICY_NAMES)
        elif policy == "spec":
            body["policy"] = json.dumps(draw(policy_specs()))
        elif policy == "deep":
            body["policy"] = draw(DEEP_JSON)
        ocr = draw(st.sampled_from(["none", "none", "none", "words", "words", "deep"]))
        if ocr == "words":
            body["ocr"] = draw(ocr_json())
        elif ocr == "deep":
            body["ocr"] = '{"words": ' + draw(DEEP_JSON) + "}"
        headers = {}
        if draw(st.integers(0, 3)) == 0:
            headers["x-latency-budget-ms"] = str(draw(st.integers(1, 600_000)))
        return operation.Case(
            body=body,
            headers=headers,
            media_type="multipart/form-data",
            multipart_content_types={"file": content_type},
        )

    return build()


def policy_bodies(operation: APIOperation) -> st.SearchStrategy[Case]:
    """PUT /admin/v1/policy with the token and a spec aimed at the policy parser."""
    spec = st.one_of(st.none(), POLICY_NAMES, policy_specs())
    return st.builds(
        lambda value: operation.Case(
            body={"policy": value}, headers=AUTH, media_type="application/json"
        ),
        spec,
    )


@contextlib.contextmanager
def production_recursion_limit() -> Iterator[None]:
    """Hypothesis raises the recursion limit, process-wide, by 2,000 while a test runs; the app
    answers here under the limit it has in production, where JSON nested 1,000 deep already
    overflows the parser."""
    raised = sys.getrecursionlimit()
    sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(raised)


class Fuzzer:
    """Runs one strategy's cases against the app and counts them per (operation, variant)."""

    def __init__(self, schema: BaseSchema, client: asgi.ASGIClient) -> None:
        self.schema, self.client = schema, client
        self.counts: dict[str, int] = {}
        self.statuses: dict[str, Counter[int]] = {}
        self.failures: list[str] = []

    def run(
        self,
        key: str,
        strategy: st.SearchStrategy[Case],
        max_examples: int,
        checks: list[Callable[..., Any]] = CHECKS,
    ) -> None:
        self.counts.setdefault(key, 0)
        statuses = self.statuses.setdefault(key, Counter())

        @fuzz_settings(max_examples)
        @given(case=strategy)
        def fuzz(case: Case) -> None:
            self.counts[key] += 1
            kwargs: dict[str, Any] = {}
            if case.media_type == "application/json" and case.meta is None:
                # Our own JSON bodies go out as Python writes them (NaN included), not via
                # requests, which refuses non-finite floats before sending.
                kwargs["data"] = json.dumps(case.body).encode()
            with production_recursion_limit():
                response = case.call_and_validate(session=self.client, checks=checks, **kwargs)
            statuses[response.status_code] += 1

        try:
            fuzz()
        except (Exception, FailureGroup) as exc:  # a report on every operation, not the first
            # An exception the app raised (not a failed check) comes with the case as a note.
            notes = "\n".join(getattr(exc, "__notes__", []))
            self.failures.append(f"{key}: {type(exc).__name__}: {exc}\n{notes}")

    def generated(
        self, op: APIOperation, variant: str, n_pos: int, n_neg: int, **fixed: Any
    ) -> None:
        self.run(f"{op.label} {variant}positive", op.as_strategy(**fixed), n_pos)
        # Nothing to make invalid in an operation without parameters or a body; X-Request-ID
        # takes any string (one that does not fit is replaced by a minted id, not refused).
        negatable = [p for p in op.iter_parameters() if p.name != REQUEST_ID]
        if n_neg and (negatable or len(op.body)):
            negative = op.as_strategy(GenerationMode.NEGATIVE, **fixed)
            self.run(f"{op.label} {variant}negative", negative, n_neg, NEGATIVE_CHECKS)


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    # Hypothesis caches (Unicode tables, constants from the code) go to ./.hypothesis even
    # without an example database: not into the checkout.
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    folder = save_tiny_checkpoint(tmp_path_factory.mktemp("fuzz-ckpt"))
    app = create_app(make_settings(folder), loader_for(FakeOcr()))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Entering the client starts the app's lifespan (kept until shutdown_lifespans): the model
    # loads and warms in the background, as in production.
    with asgi.get_client(app) as client:
        wait_ready(client)  # a requests session: the same get() as a TestClient
        yield Fuzzer(schema, client)
    asgi.shutdown_lifespans()
    set_hypothesis_home_dir(None)


def test_every_operation_answers_as_documented(
    fuzzer: Fuzzer, record_property: Callable[[str, Any], None]
) -> None:
    operations = {op.label: op for op in (r.ok() for r in fuzzer.schema.get_all_operations())}
    classify = operations["POST /v1/classify"]
    admin = [op for label, op in operations.items() if " /admin/" in label]
    others = [op for op in operations.values() if op is not classify and op not in admin]
    assert len(admin) == 11 and len(others) == 5, sorted(operations)

    for op in others:
        fuzzer.generated(op, "", POSITIVE, NEGATIVE)
    fuzzer.generated(classify, "", CLASSIFY_POSITIVE, CLASSIFY_NEGATIVE)
    fuzzer.run(f"{classify.label} real pages", page_cases(classify), CLASSIFY_PAGES)
    for op in admin:
        fuzzer.generated(op, "with token, ", ADMIN_POSITIVE, ADMIN_NEGATIVE, headers=AUTH)
    put_policy = operations["PUT /admin/v1/policy"]
    fuzzer.run(
        f"{put_policy.label} with token, policies", policy_bodies(put_policy), ADMIN_POLICIES
    )
    # Without a token, or with a generated one: 401, then 429 once this client is locked out
    # (after the token runs, which the lockout would otherwise answer too); never a change.
    for op in admin:
        fuzzer.generated(op, "", ADMIN_POSITIVE, ADMIN_NEGATIVE)
    # Whatever budget and policy the admin cases left in force must still serve every page,
    # the model card and the scrape (the scrape publishes the policy's thresholds).
    fuzzer.run(f"{classify.label} real pages afterwards", page_cases(classify), AFTERWARDS)
    for op in others:
        fuzzer.generated(op, "afterwards, ", 5, 0)

    total = sum(fuzzer.counts.values())
    report = "\n".join(
        f"{n:5d}  {key}  {dict(sorted(fuzzer.statuses[key].items()))}"
        for key, n in fuzzer.counts.items()
    )
    sys.stderr.write(f"\nschemathesis cases run (statuses):\n{report}\n{total:5d}  in total\n")
    record_property("schemathesis_cases", total)
    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)
    assert total >= MIN_TOTAL, report
    # The success schemas were checked too, not only the error answers.
    for key in (
        f"{classify.label} real pages",
        f"{put_policy.label} with token, policies",
        "PUT /admin/v1/latency-budget with token, positive",
        "GET /admin/v1/audit with token, positive",
    ):
        assert fuzzer.statuses[key][200] > 0, report


def test_errors_are_documented_as_problem_json_only_with_their_headers(fuzzer: Fuzzer) -> None:
    # What the content-type check above cannot tell: no error claims a second media type that
    # no answer has, and the headers clients rely on are promised where every answer has them.
    for path, methods in fuzzer.schema.raw_schema["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                where = (path, method, status)
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], where
                required = {k for k, v in response.get("headers", {}).items() if v["required"]}
                assert REQUEST_ID in required, where  # every answer carries its request's id
                required.discard(REQUEST_ID)
                if status in ("429", "503"):
                    assert required == {"Retry-After"}, where
                if status == "401":
                    assert required == {"WWW-Authenticate"}, where
