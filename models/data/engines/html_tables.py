"""Tables: modern invoices and budgets printed from a spreadsheet (grid with row numbers and column
letters) or from a finance report."""

from __future__ import annotations

from models.data.engines.html_style import Ctx, esc, logo

ITEMS = (
    "Consulting services",
    "Software licence (annual)",
    "Installation and setup",
    "Support contract",
    "Hardware maintenance",
    "Training session",
    "Travel expenses",
    "Cloud hosting",
    "Design work",
    "Printing",
    "Office supplies",
    "Shipping and handling",
    "Data migration",
    "Security audit",
    "Translation",
    "Equipment rental",
    "Catering",
)
BUDGET_LINES = (
    "Salaries",
    "Benefits",
    "Rent",
    "Utilities",
    "Travel",
    "Equipment",
    "Software",
    "Marketing",
    "Training",
    "Insurance",
    "Legal fees",
    "Consultants",
    "Supplies",
    "Postage",
    "Telephone",
    "Maintenance",
    "Contingency",
    "Conferences",
)
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def invoice(ctx: Ctx) -> tuple[str, str]:
    fake, rng, t = ctx.fake, ctx.rng, ctx.theme
    cur = rng.choice(("$", "€", "£", ""))
    rows, total = "", 0.0
    for item in rng.sample(ITEMS, rng.randint(3, 9)):
        qty, price = rng.randint(1, 40), rng.uniform(5, 900)
        total += qty * price
        rows += (
            f"<tr><td>{esc(item)}</td><td class='n'>{qty}</td>"
            f"<td class='n'>{cur}{price:,.2f}</td><td class='n'>{cur}{qty * price:,.2f}</td>"
            "</tr>"
        )
    tax = rng.choice((0.0, 0.05, 0.08, 0.1, 0.2))
    sums = [
        ("Subtotal", total),
        (f"Tax ({tax:.0%})", total * tax),
        ("Total due", total * (1 + tax)),
    ]
    sum_rows = "".join(
        f"<tr><td colspan=3>{k}</td><td class='n'>{cur}{v:,.2f}</td></tr>" for k, v in sums
    )
    seller, buyer = ctx.company(), ctx.company()
    number = f"{rng.choice(('INV', 'IN', 'A'))}-{rng.randint(1000, 99999)}"
    html = (
        f'<div class="top"><div>{logo(ctx, 50)}<div class="seller">{esc(seller)}</div>'
        f"<div class='muted'>{esc(fake.address())}</div></div>"
        f'<div class="title"><h1>INVOICE</h1><table class="meta">'
        f"<tr><th>Invoice no.</th><td>{number}</td></tr><tr><th>Date</th><td>{ctx.date()}</td></tr>"
        f"<tr><th>Due</th><td>{ctx.date()}</td></tr></table></div></div>"
        f'<div class="bill"><b>Bill to</b><br>{esc(buyer)}<br>{esc(fake.name())}<br>'
        f"{esc(fake.address())}</div>"
        f'<table class="items"><thead><tr><th>Description</th><th>Qty</th><th>Unit price</th>'
        f"<th>Amount</th></tr></thead><tbody>{rows}</tbody><tfoot>{sum_rows}</tfoot></table>"
        f'<div class="pay"><b>Payment details</b><br>Bank: {esc(fake.company())} Bank<br>'
        f"IBAN: {esc(fake.iban())}<br>Please quote {number} with your payment. "
        f"Payment terms: {rng.choice((14, 30, 45))} days.</div>"
        f"<p class='thanks accent'>Thank you for your business!</p>"
    )
    css = (
        f".top {{ display: flex; justify-content: space-between; }} .seller {{ font-weight: "
        f"bold; font-size: 13pt; }} .muted {{ white-space: pre-line; font-size: 9pt; }}"
        f" h1 {{ color: {t.accent}; font-size: 30pt; margin: 0; text-align: right; }}"
        f" .meta th {{ text-align: left; padding-right: 5mm; }} .bill {{ margin: 10mm 0 6mm;"
        f" white-space: pre-line; }} .items {{ width: 100%; }} .items th {{ background: "
        f"{t.accent}; color: white; padding: 2mm; text-align: left; }} .items td {{ padding: "
        f"2mm; border-bottom: 0.5pt solid #ccc; }} .n {{ text-align: right; }} tfoot td {{ "
        f"font-weight: bold; border: 0 !important; text-align: right; }} .pay {{ margin-top: "
        f"10mm; background: {t.soft}; padding: 4mm; font-size: 9pt; }} .thanks {{ "
        f"margin-top: 8mm; font-size: 12pt; }}"
    )
    return html, css


def _budget_rows(ctx: Ctx, columns: int) -> list[tuple[str, list[float]]]:
    lines = ctx.rng.sample(BUDGET_LINES, ctx.rng.randint(8, 16))
    return [(x, [round(ctx.rng.uniform(500, 60000), -1) for _ in range(columns)]) for x in lines]


def budget_report(ctx: Ctx) -> tuple[str, str]:
    """A budget as a finance office prints it: title block, a table by period, a note."""
    rng, t = ctx.rng, ctx.theme
    periods = list(QUARTERS) if rng.random() < 0.5 else list(MONTHS[: rng.choice((6, 12))])
    head = "".join(f"<th>{p}</th>" for p in [*periods, "Total"])
    body, totals = "", [0.0] * len(periods)
    for name, values in _budget_rows(ctx, len(periods)):
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        cells = "".join(f"<td>{v:,.0f}</td>" for v in [*values, sum(values)])
        body += f"<tr><th>{esc(name)}</th>{cells}</tr>"
    foot = "".join(f"<td>{v:,.0f}</td>" for v in [*totals, sum(totals)])
    year = rng.randint(2015, 2026)
    note = " ".join(ctx.sentences(2, 30))
    html = (
        f"<h1>{esc(ctx.company())}</h1><h2>{rng.choice(('Operating', 'Project', 'Department'))} "
        f"Budget FY{year}</h2><p class='muted'>{esc(ctx.fake.bs().capitalize())} · prepared "
        f"{ctx.date()} · all figures in {rng.choice(('USD', 'EUR', 'GBP', 'CAD'))}</p>"
        f"<table><thead><tr><th>Line item</th>{head}</tr></thead><tbody>{body}</tbody>"
        f"<tfoot><tr><th>Total</th>{foot}</tr></tfoot></table><p class='note'>Note: {esc(note)}</p>"
    )
    css = (
        f"table {{ width: 100%; font-size: {8 if len(periods) > 6 else 9.5}pt; margin-top: "
        f"5mm; }} td {{ text-align: right; padding: 1.2mm 1.5mm; border-bottom: 0.5pt solid "
        f"#ddd; }} tbody th {{ text-align: left; font-weight: normal; }} thead th {{ border-"
        f"bottom: 1.5pt solid {t.accent}; text-align: right; padding: 1.5mm; }} tfoot {{ "
        f"font-weight: bold; background: {t.soft}; }} .note {{ margin-top: 6mm; font-size: "
        f"9pt; }} h2 {{ color: {t.accent}; }}"
    )
    return html, css


def budget_sheet(ctx: Ctx) -> tuple[str, str]:
    """A spreadsheet printed with grid, row numbers and column letters."""
    rng = ctx.rng
    periods = list(QUARTERS) if rng.random() < 0.6 else list(MONTHS[:6])
    rows = _budget_rows(ctx, len(periods))
    letters = "ABCDEFGHIJ"[: len(periods) + 2]
    grid = [
        [f"{ctx.company()} budget {rng.randint(2015, 2026)}"] + [""] * (len(periods) + 1),
        ["Category", *periods, "Total"],
    ]
    for name, values in rows:
        grid.append([name, *(f"{v:,.0f}" for v in values), f"{sum(values):,.0f}"])
    sums = [sum(v[i] for _, v in rows) for i in range(len(periods))]
    grid.append(["TOTAL", *(f"{v:,.0f}" for v in sums), f"{sum(sums):,.0f}"])
    head = "<tr><th></th>" + "".join(f"<th>{c}</th>" for c in letters) + "</tr>"
    body = "".join(
        f"<tr><th>{i + 1}</th>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(grid)
    )
    sheet = rng.choice(("Sheet1", "Budget", "Summary"))
    html = (
        f"<p class='file mono'>{esc(ctx.fake.file_name(extension='xlsx'))} — {sheet}</p>"
        f"<table>{head}{body}</table><p class='pg'>Page 1</p>"
    )
    ctx.rotated = rng.random() < 0.6
    css = (
        f"table {{ font-family: "
        f"'{rng.choice(('Carlito', 'Liberation Sans', 'DejaVu Sans'))}'; font-size: 9pt; }}"
        " td, th { border: 0.5pt solid #bbb; padding: 1mm 2mm; } td { text-align: right; }"
        " td:first-of-type { text-align: left; min-width: 35mm; } th { background: #eee;"
        " font-weight: normal; color: #444; } tr:nth-child(3) td, tr:last-child td { "
        "font-weight: bold; } tr:nth-child(2) td { font-weight: bold; } .pg { text-align: "
        "center; margin-top: 8mm; font-size: 8pt; } .file { font-size: 8pt; }"
    )
    return html, css


INVOICE = (invoice,)
BUDGET = (budget_report, budget_sheet)
