"""Budget spreadsheets: quarterly budgets, budget-versus-actual variance sheets and income
statements. Values are computed here and written as numbers, not formulas: a converter that does
not recalculate on load would print zeros."""

from __future__ import annotations

import random
from typing import Any

from openpyxl.styles import Border, Side

from models.data.engines.dates import YEAR, day
from models.data.engines.sheets_style import MEDIUM, THIN, Sheet, set_widths

BUDGET_LINES = {
    "Personnel": ("Salaries", "Benefits", "Contractors", "Training", "Recruitment"),
    "Operations": ("Rent", "Utilities", "Insurance", "Maintenance", "Office supplies"),
    "Marketing": ("Advertising", "Events", "Website", "Print materials", "Sponsorship"),
    "Technology": ("Software licences", "Hardware", "Cloud services", "Support contracts"),
    "Travel": ("Flights", "Hotels", "Meals", "Ground transport"),
}
BUDGET_TITLES = ("Annual Budget", "Department Budget", "Cost Breakdown", "Operating Budget")
STATEMENT = (
    ("Revenue", ("Product sales", "Services", "Subscriptions", "Other income")),
    ("Cost of sales", ("Materials", "Direct labour", "Freight")),
    ("Operating expenses", ("Salaries", "Rent", "Marketing", "Depreciation", "Administration")),
)


def budget(s: Sheet) -> str:
    rng = s.rng
    kind = rng.choice(("quarterly", "variance", "statement"))
    if kind == "statement":
        return _statement(s)
    groups = rng.sample(sorted(BUDGET_LINES), rng.randint(2, 4))
    year = rng.randint(2019, 2026)
    currency = rng.choice(("USD", "GBP", "EUR"))
    symbol = {"USD": '"$"', "GBP": '"£"', "EUR": '"€"'}[currency]
    money = rng.choice(("#,##0", "#,##0.00", f"{symbol}#,##0"))
    cols = (
        ["Q1", "Q2", "Q3", "Q4", "Total"]
        if kind == "quarterly"
        else ["Budget", "Actual", "Variance", "%"]
    )
    s.title(
        f"{s.fake.company()} - {rng.choice(BUDGET_TITLES)} FY{year}",
        len(cols) + 1,
    )
    s.put(
        2,
        1,
        f"{rng.choice(('Prepared by', 'Owner'))}: {s.fake.name()}    Currency: {currency}",
        italic=True,
        size=s.size - 1,
    )
    s.ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(cols) + 1)
    row = 4
    s.header(row, ["Category"] + cols)
    grand = [0.0] * len(cols)
    for group in groups:
        row += 1
        s.put(row, 1, group, bold=True, color=s.accent)
        sub = [0.0] * len(cols)
        for line in rng.sample(BUDGET_LINES[group], rng.randint(2, len(BUDGET_LINES[group]))):
            row += 1
            values = _line_values(rng, kind)
            s.put(row, 1, f"   {line}")
            for j, v in enumerate(values):
                s.put(row, j + 2, v, fmt="0.0%" if cols[j] == "%" else money)
                sub[j] += v
        row += 1
        s.put(row, 1, f"Total {group.lower()}", bold=True, border=Border(top=THIN))
        _totals(s, row, sub, cols, money, Border(top=THIN))
        grand = [g + v for g, v in zip(grand, sub, strict=True)]
    row += 2
    s.put(
        row,
        1,
        "TOTAL",
        bold=True,
        fill=s.light,
        border=Border(top=MEDIUM, bottom=Side(style="double")),
    )
    _totals(
        s, row, grand, cols, money, Border(top=MEDIUM, bottom=Side(style="double")), fill=s.light
    )
    if rng.random() < 0.5:
        s.put(
            row + 2,
            1,
            "Approved: ____________________    Date: "
            + day(s.fake, -30 * YEAR, 0).strftime("%d/%m/%Y"),
            size=s.size - 1,
        )
    set_widths(s, [30] + [13] * len(cols))
    return f"budget/{kind}"


def _line_values(rng: random.Random, kind: str) -> list[float]:
    if kind == "quarterly":
        q = [round(rng.uniform(500, 60000), -1) for _ in range(4)]
        return q + [sum(q)]
    budget_ = round(rng.uniform(1000, 250000), -2)
    actual = round(budget_ * rng.uniform(0.7, 1.25), 0)
    return [budget_, actual, budget_ - actual, (budget_ - actual) / budget_]


def _totals(
    s: Sheet, row: int, values: list[float], cols: list[str], money: str, border: Border, **kw: Any
) -> None:
    for j, v in enumerate(values):
        if cols[j] == "%":
            v = values[2] / values[0] if values[0] else 0.0
        s.put(
            row, j + 2, v, bold=True, fmt="0.0%" if cols[j] == "%" else money, border=border, **kw
        )


def _statement(s: Sheet) -> str:
    rng, fake = s.rng, s.fake
    year = rng.randint(2018, 2025)
    s.title(f"{fake.company()}", 3, size=15)
    s.put(2, 1, f"Income Statement for the year ended 31 December {year}", bold=True)
    s.ws.merge_cells("A2:C2")
    s.header(4, ["", str(year), str(year - 1)])
    row, totals = 4, []
    for section, lines in STATEMENT:
        row += 1
        s.put(row, 1, section, bold=True)
        a = b = 0.0
        for line in lines:
            row += 1
            x, y = round(rng.uniform(5e3, 9e5), -2), round(rng.uniform(5e3, 9e5), -2)
            a, b = a + x, b + y
            s.put(row, 1, f"   {line}")
            s.put(row, 2, x, fmt="#,##0;(#,##0)")
            s.put(row, 3, y, fmt="#,##0;(#,##0)")
        row += 1
        s.put(row, 1, f"Total {section.lower()}", bold=True)
        for col, v in ((2, a), (3, b)):
            s.put(row, col, v, bold=True, fmt="#,##0;(#,##0)", border=Border(top=THIN))
        totals.append((a, b))
    row += 2
    net = [totals[0][k] - totals[1][k] - totals[2][k] for k in (0, 1)]
    s.put(row, 1, "Net profit (loss)", bold=True)
    for col, v in ((2, net[0]), (3, net[1])):
        s.put(
            row,
            col,
            v,
            bold=True,
            fmt="#,##0;(#,##0)",
            border=Border(top=MEDIUM, bottom=Side(style="double")),
        )
    set_widths(s, [36, 15, 15])
    return "budget/statement"
