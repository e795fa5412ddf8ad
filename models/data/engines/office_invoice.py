"""Invoices, quotations, estimates and purchase orders as Word tables: letterhead, bill-to and
number block, line items with totals, and payment notes."""

from __future__ import annotations

from docx.document import Document as DocxDocument

from models.data.engines import office_text as words
from models.data.engines.dates import YEAR, day
from models.data.engines.office_letters import company, letterhead
from models.data.engines.office_paragraphs import cell_text, para, run
from models.data.engines.office_tables import cell_borders, cell_margins, shade, table
from models.data.engines.office_theme import Ctx


def _money(ctx: Ctx, amount: float) -> str:
    return f"{ctx.currency}{amount:,.2f}"


def invoice(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    kind = rng.choice(
        ("INVOICE", "INVOICE", "TAX INVOICE", "QUOTATION", "PURCHASE ORDER", "ESTIMATE")
    )
    ctx.currency = rng.choice(("$", "$", "£", "€", "USD "))
    co = company(ctx)
    letterhead(doc, ctx, co, rng.choice(("split", "minimal", "band")))
    para(
        doc,
        kind,
        size=rng.choice((20, 24, 28)),
        bold=True,
        font=th.heading,
        color=th.accent,
        align=rng.choice(("left", "right")),
        after=8,
    )
    date = day(fake, -2 * YEAR, 0)
    number = (
        f"{rng.choice(('INV-', 'Q-', 'PO-', '#', ''))}{date.year}-{rng.randint(100, 99999):05d}"
    )
    meta = [
        ("Number", number),
        ("Date", date.strftime("%d/%m/%Y")),
        (
            "Due" if kind.endswith("INVOICE") else "Valid until",
            day(fake, 0, 60).strftime("%d/%m/%Y"),
        ),
    ]
    if rng.random() < 0.5:
        meta.append(("Customer ID", f"C{rng.randint(1000, 99999)}"))
    t = table(doc, max(len(meta), 5), 3, [2.6, 2.2, 1.9], borders="none")
    cell_text(
        t.cell(0, 0),
        "Bill to" if kind != "PURCHASE ORDER" else "Supplier",
        bold=True,
        color=th.accent,
    )
    for i, line in enumerate((fake.name(), fake.company(), fake.street_address(), fake.city())):
        cell_text(t.cell(i + 1, 0), line)
    if rng.random() < 0.5:
        cell_text(t.cell(0, 1), "Ship to", bold=True, color=th.accent)
        for i, line in enumerate((fake.name(), fake.street_address(), fake.city())):
            cell_text(t.cell(i + 1, 1), line)
    for i, (key, value) in enumerate(meta):
        p = cell_text(t.cell(i, 2), f"{key}: ", bold=True, align="right")
        run(p, value)
    para(doc, "", after=8)
    _items(doc, ctx)
    terms = rng.choice(
        (
            f"Payment due within {rng.choice((14, 30, 45))} days. "
            "Please quote the invoice number with your payment.",
            f"Bank transfer to {fake.company()} - IBAN {fake.iban()}",
            "This quotation is valid for 30 days. Prices exclude delivery unless stated.",
            "Thank you for your business!",
        )
    )
    para(doc, "Notes", bold=True, before=14, after=2, color=th.accent)
    para(doc, terms, size=th.size - 1)
    return f"invoice/{kind.lower().replace(' ', '-')}"


def _items(doc: DocxDocument, ctx: Ctx) -> None:
    rng, th = ctx.rng, ctx.theme
    pool = words.SERVICES if rng.random() < 0.5 else words.PRODUCTS
    items = rng.sample(pool, rng.randint(3, 9))
    style = rng.choice(("grid", "rows", "shaded"))
    t = table(
        doc,
        len(items) + 1,
        5,
        [0.6, 3.2, 0.7, 1.1, 1.1],
        borders="grid" if style == "grid" else "rows",
    )
    cell_margins(t, 3, 3, 5)
    for j, head in enumerate(("Item", "Description", "Qty", "Unit price", "Amount")):
        cell_text(
            t.cell(0, j),
            head,
            bold=True,
            color="FFFFFF" if style == "shaded" else None,
            align="right" if j >= 2 else "left",
        )
        if style == "shaded":
            shade(t.cell(0, j), th.accent)
    subtotal = 0.0
    for i, item in enumerate(items, 1):
        qty = rng.choice((1, 1, 2, 3, 5, 10, 12, 25))
        price = round(rng.uniform(8, 900), rng.choice((0, 2)))
        subtotal += qty * price
        values = (str(i), item, str(qty), _money(ctx, price), _money(ctx, qty * price))
        for j, value in enumerate(values):
            cell_text(t.cell(i, j), value, align="right" if j >= 2 else "left")
            if style == "shaded" and i % 2 == 0:
                shade(t.cell(i, j), th.light)
    rate = rng.choice((0.0, 0.05, 0.08, 0.1, 0.2))
    totals = [("Subtotal", subtotal), (f"Tax ({rate:.0%})", subtotal * rate)]
    if rng.random() < 0.3:
        totals.append(("Shipping", rng.choice((15.0, 25.0, 49.5))))
    totals.append(("TOTAL", sum(v for _, v in totals)))
    s = table(doc, len(totals), 2, [5.2, 1.5], borders="none")
    for i, (name, amount) in enumerate(totals):
        last = i == len(totals) - 1
        cell_text(s.cell(i, 0), name, bold=last, align="right")
        cell_text(s.cell(i, 1), _money(ctx, amount), bold=last, align="right")
        if last:
            cell_borders(s.cell(i, 1), "top,bottom", 12, th.accent)
