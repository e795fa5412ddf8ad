"""Spreadsheet invoices and quotes: seller and bill-to blocks, line items and totals, written as
numbers (not formulas) so that every converter prints them."""

from __future__ import annotations

from openpyxl.styles import Border, Side

from models.data.engines import office_text as words
from models.data.engines.dates import YEAR, day
from models.data.engines.sheets_style import MEDIUM, Sheet, set_widths


def invoice(s: Sheet) -> str:
    rng, fake = s.rng, s.fake
    heading = rng.choice(("INVOICE", "Invoice", "SALES INVOICE", "QUOTE"))
    s.title(heading, 5, size=22)
    for r, line in enumerate(
        (fake.company(), fake.street_address(), fake.city(), fake.phone_number()), 2
    ):
        s.put(r, 1, line, bold=r == 2)
    meta = (
        ("Quote #" if heading == "QUOTE" else "Invoice #", f"{rng.randint(1000, 99999)}"),
        ("Date", day(fake, -30 * YEAR, 0).strftime("%d %b %Y")),
        ("Terms", f"Net {rng.choice((15, 30, 60))}"),
    )
    for r, (key, value) in enumerate(meta, 2):
        s.put(r, 4, key, bold=True, align="right")
        s.put(r, 5, value, align="right")
    s.put(7, 1, "Bill to:", bold=True, color=s.accent)
    for r, line in enumerate((fake.name(), fake.company(), fake.street_address()), 8):
        s.put(r, 1, line)
    s.header(12, ["Description", "Qty", "Unit", "Unit price", "Amount"])
    row, total = 12, 0.0
    pool = words.SERVICES + words.PRODUCTS
    for item in rng.sample(pool, rng.randint(4, 12)):
        row += 1
        qty, price = rng.choice((1, 2, 3, 5, 10, 20)), round(rng.uniform(5, 800), 2)
        total += qty * price
        stripe = {"fill": s.light} if row % 2 and rng.random() < 0.7 else {}
        s.put(row, 1, item, **stripe)
        s.put(row, 2, qty, **stripe)
        s.put(row, 3, rng.choice(("ea", "hr", "pcs", "set")), align="center", **stripe)
        s.put(row, 4, price, fmt="#,##0.00", **stripe)
        s.put(row, 5, qty * price, fmt="#,##0.00", **stripe)
    rate = rng.choice((0.05, 0.07, 0.1, 0.2))
    summary = (
        ("Subtotal", total),
        (f"Tax {rate:.0%}", total * rate),
        ("TOTAL DUE", total * (1 + rate)),
    )
    for k, (name, amount) in enumerate(summary):
        r = row + 2 + k
        last = k == 2
        s.put(r, 4, name, bold=last, align="right")
        s.put(
            r,
            5,
            amount,
            bold=last,
            fmt="#,##0.00",
            border=Border(top=MEDIUM, bottom=Side(style="double")) if last else Border(),
        )
    s.put(
        row + 6,
        1,
        f"Please make payment to {fake.company()} - account {fake.bban()}",
        italic=True,
        size=s.size - 1,
    )
    set_widths(s, [38, 8, 8, 13, 14])
    return "invoice/sheet"
