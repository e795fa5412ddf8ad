"""The PromQL that deploy/ ships, collected in one place for the static and the live tests:
every expression of the Grafana dashboards (panels, annotations, variables) and of the rule
files, with Grafana's variables replaced the way Grafana would for one concrete choice."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULE_FILES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
# What Grafana puts for its built-ins; 1m spans several scrapes both in the stack (5 s) and
# in the live test (1 s).
BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1m"}
LABEL_VALUES = re.compile(r"^label_values\((?P<metric>[^,]+),\s*(?P<label>\w+)\)$")


@dataclass(frozen=True)
class Expr:
    where: str  # e.g. "docexit.json: panel 'Exit depth' A"
    promql: str


def dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def panels(dash: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dash["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep theirs inside


def variable_choices(dash: dict[str, Any]) -> dict[str, list[str]]:
    """Each template variable's concrete values to try: a custom variable's options one by one,
    anything else (a multi-value query variable) as its all-value regex."""
    choices: dict[str, list[str]] = {}
    for var in dash["templating"]["list"]:
        if var["type"] == "custom":
            choices[var["name"]] = [v.strip() for v in var["query"].split(",")]
        elif var["type"] == "query":
            choices[var["name"]] = [var.get("allValue") or ".+"]
    return choices


def substitute(expr: str, values: dict[str, str]) -> str:
    """$name and ${name} replaced, longest names first (so $__interval is not $__i...)."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    assert "$" not in expr, f"unreplaced variable in {expr!r}"
    return expr


def expand(where: str, expr: str, choices: dict[str, list[str]]) -> Iterator[Expr]:
    """One Expr per value of each variable the expression uses (the others at their first)."""
    used = [n for n in choices if re.search(r"\$\{?" + re.escape(n) + r"\b", expr)]
    base = {n: v[0] for n, v in choices.items()} | BUILTINS
    if not used:
        yield Expr(where, substitute(expr, base))
    for name in used:
        for value in choices[name]:
            yield Expr(f"{where} [{name}={value}]", substitute(expr, base | {name: value}))


def dashboard_exprs() -> Iterator[Expr]:
    for path in DASHBOARDS:
        dash = dashboard(path)
        choices = variable_choices(dash)
        for panel in panels(dash):
            for target in panel.get("targets", []):
                where = f"{path.name}: panel {panel['title']!r} {target['refId']}"
                yield from expand(where, target["expr"], choices)
        for ann in dash["annotations"]["list"]:
            if "expr" in ann:
                yield from expand(f"{path.name}: annotation {ann['name']!r}", ann["expr"], choices)


def variable_queries() -> Iterator[tuple[str, str, str]]:
    """(where, metric selector, label) of each label_values() query variable."""
    for path in DASHBOARDS:
        for var in dashboard(path)["templating"]["list"]:
            if var["type"] == "query":
                query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
                match = LABEL_VALUES.match(query.strip())
                assert match, f"{path.name}: variable {var['name']} is not label_values(): {query}"
                yield f"{path.name}: variable {var['name']}", match["metric"], match["label"]


def rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def recording_exprs() -> Iterator[Expr]:
    for path, rule in rules():
        if "record" in rule:
            labels = ",".join(f"{k}={v}" for k, v in rule.get("labels", {}).items())
            yield Expr(f"{path.name}: {rule['record']}{{{labels}}}", rule["expr"])


def alert_exprs() -> Iterator[Expr]:
    for path, rule in rules():
        if "alert" in rule:
            yield Expr(f"{path.name}: {rule['alert']}", rule["expr"])
