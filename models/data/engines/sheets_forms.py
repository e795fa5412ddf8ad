"""Form-like spreadsheets: weekly timesheets, expense claims and order forms, blank or filled in,
with boxed fields, a table of rows and signature lines."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Border, Side

from models.data.engines import office_text as words
from models.data.engines.dates import YEAR, day
from models.data.engines.sheets_style import MEDIUM, THIN, Sheet, set_widths


def form(s: Sheet) -> str:
    rng, fake = s.rng, s.fake
    kind = rng.choice(("timesheet", "expense", "order"))
    filled = rng.random() < 0.6
    title = {
        "timesheet": "Weekly Timesheet",
        "expense": "Expense Claim Form",
        "order": "Order Form",
    }[kind]
    s.title(title, 6, size=18)
    box = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    for r, label in enumerate(
        ("Name", "Department" if kind != "order" else "Company", "Account no.", "Period"), 3
    ):
        s.put(r, 1, label, bold=True, fill=s.light, border=box)
        s.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
        value = {
            3: fake.name(),
            4: fake.company(),
            5: str(rng.randint(10000, 99999)),
            6: day(fake, -30 * YEAR, 0).strftime("%m/%d/%Y"),
        }[r]
        s.put(r, 2, value if filled else "", border=box)
    heads = {
        "timesheet": ["Day", "Date", "Start", "End", "Break", "Hours"],
        "expense": ["Date", "Description", "Category", "Receipt", "Miles", "Amount"],
        "order": ["Item no.", "Description", "Size", "Colour", "Qty", "Price"],
    }[kind]
    s.header(8, heads)
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    n = 7 if kind == "timesheet" else rng.randint(6, 14)
    for i in range(n):
        r = 9 + i
        row = (
            _form_row(s, kind, i, days)
            if filled and (kind == "timesheet" or rng.random() < 0.6)
            else [""] * 6
        )
        for j, v in enumerate(row, 1):
            s.put(r, j, v, border=box, fmt="#,##0.00" if isinstance(v, float) else "General")
    r = 10 + n
    s.put(r, 5, "Total", bold=True, align="right")
    s.put(r, 6, "", border=Border(top=MEDIUM, bottom=Side(style="double")))
    s.put(
        r + 2,
        1,
        "Employee signature: ______________________      Approved by: ______________________",
        size=s.size - 1,
    )
    set_widths(s, [16, 28, 12, 12, 10, 12])
    return f"form/sheet-{kind}"


def _form_row(s: Sheet, kind: str, i: int, days: tuple[str, ...]) -> list[Any]:
    rng, fake = s.rng, s.fake
    if kind == "timesheet":
        start, end = rng.choice((7, 8, 9)), rng.choice((16, 17, 18))
        return [
            days[i],
            day(fake, -30 * YEAR, 0).strftime("%m/%d"),
            f"{start}:00",
            f"{end}:{rng.choice(('00', '30'))}",
            "0:30",
            float(end - start) - 0.5,
        ]
    if kind == "expense":
        return [
            day(fake, -30 * YEAR, 0).strftime("%m/%d/%Y"),
            rng.choice(words.SERVICES),
            rng.choice(("Travel", "Meals", "Supplies", "Lodging")),
            "Yes",
            "",
            round(rng.uniform(5, 400), 2),
        ]
    return [
        f"{rng.randint(100, 9999)}",
        rng.choice(words.PRODUCTS),
        rng.choice(("S", "M", "L", "-")),
        rng.choice(("Black", "White", "Blue", "-")),
        rng.randint(1, 12),
        round(rng.uniform(3, 300), 2),
    ]
