"""The cascade trace every page answer carries: each exit of the plan in order, what it said
when it ran, why it was skipped when it did not (policy, deadline, full depth)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.service.test_classify import ALWAYS, NEVER, post


def by_status(body: dict[str, object], status: str) -> list[dict[str, object]]:
    return [s for s in body["cascade"] if s["status"] == status]  # type: ignore[attr-defined]


def test_an_early_answer_runs_one_exit_and_skips_the_rest_for_policy(client: TestClient) -> None:
    body = post(client, policy=ALWAYS).json()
    names = [s["name"] for s in body["cascade"]]
    assert names == client.get("/v1/model").json()["exits"]  # every exit, in the plan's order
    [answered] = by_status(body, "answered")
    assert answered["name"] == body["exit"]["name"] == names[0]
    assert answered["confidence"] == body["confidence"] and answered["label"] == body["label"]
    assert answered["threshold"] == 0.0 and answered["reason"] == "policy"
    skipped = by_status(body, "skipped")
    assert len(skipped) == len(names) - 1
    assert {s["reason"] for s in skipped} == {"policy"}
    assert all(s["confidence"] is None for s in skipped)


def test_a_policy_never_sure_meets_every_exit_below_its_threshold(client: TestClient) -> None:
    body = post(client, policy=NEVER).json()
    ran = [s for s in body["cascade"] if s["status"] != "skipped"]
    assert ran[-1]["status"] == "answered" and ran[-1]["name"] == body["exit"]["name"]
    for step in ran[:-1]:
        assert step["confidence"] < step["threshold"] == 0.999


def test_full_depth_answers_at_the_last_exit_and_says_why(client: TestClient) -> None:
    body = post(client, full_depth="true").json()
    last = body["cascade"][-1]
    assert last["status"] == "answered" and last["reason"] == "full_depth"
    assert {s["reason"] for s in by_status(body, "skipped")} <= {"full_depth"}
    assert all(s["threshold"] is None for s in body["cascade"])


def test_a_spent_deadline_skips_for_the_deadline(client: TestClient) -> None:
    body = post(client, policy=json.dumps({"name": "global", "tau": 0.999}),
                latency_budget_ms=1).json()  # fmt: skip
    assert body["deadline_hit"] is True
    assert by_status(body, "answered")[0]["reason"] == "deadline"
    assert "deadline" in {s["reason"] for s in by_status(body, "skipped")}
