"""Business letters and memos, and the letterheads other templates (invoices, forms) share."""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.shared import Inches, Pt

from models.data.engines.dates import YEAR, day
from models.data.engines.office_paragraphs import cell_text, para, rule, run, shade_paragraph
from models.data.engines.office_tables import shade, table
from models.data.engines.office_theme import Ctx

LETTERHEADS = ("centered", "band", "split", "minimal")


def company(ctx: Ctx) -> dict[str, str]:
    fake = ctx.fake
    name = fake.company()
    domain = "".join(c for c in name.split()[0].lower() if c.isalnum()) or "mail"
    return {
        "name": name,
        "tagline": fake.catch_phrase(),
        "street": fake.street_address(),
        "city": f"{fake.city()}, {fake.postcode()}",
        "phone": fake.phone_number(),
        "email": f"info@{domain}.com",
        "web": f"www.{domain}.com",
    }


def letterhead(doc: DocxDocument, ctx: Ctx, co: dict[str, str], kind: str) -> None:
    """The sender's identity at the top of the first page, in one of LETTERHEADS."""
    th = ctx.theme
    contact = f"{co['street']} · {co['city']} · {co['phone']} · {co['web']}"
    big = ctx.rng.choice((18, 20, 22, 26))
    if kind == "centered":
        para(
            doc,
            co["name"],
            align="center",
            size=big,
            bold=True,
            font=th.heading,
            color=th.accent,
            after=0,
        )
        if ctx.rng.random() < 0.5:
            para(doc, co["tagline"], align="center", size=th.size - 1, italic=True, after=2)
        rule(para(doc, contact, align="center", size=th.size - 2, after=14), th.accent, 12)
    elif kind == "band":
        t = table(doc, 1, 2, [4.2, 2.5], borders="none")
        shade(t.cell(0, 0), th.accent)
        shade(t.cell(0, 1), th.accent)
        cell_text(t.cell(0, 0), co["name"], size=big, bold=True, font=th.heading, color="FFFFFF")
        for line in (co["street"], co["city"], co["phone"]):
            para(t.cell(0, 1), line, align="right", size=th.size - 2, color="FFFFFF", after=0)
        para(doc, "", after=10)
    elif kind == "split":
        t = table(doc, 1, 2, [3.6, 3.1], borders="none")
        cell_text(
            t.cell(0, 0), co["name"], size=big - 2, bold=True, font=th.heading, color=th.accent
        )
        para(t.cell(0, 0), co["tagline"], size=th.size - 2, italic=True, after=0)
        for line in (co["street"], co["city"], co["phone"], co["email"]):
            para(t.cell(0, 1), line, align="right", size=th.size - 2, after=0)
        rule(para(doc, "", after=12), th.accent, 6)
    else:
        para(doc, co["name"].upper(), size=th.size + 3, bold=True, font=th.heading, after=0)
        para(doc, contact, size=th.size - 2, color="555555", after=18)


def _address(doc: DocxDocument, ctx: Ctx, after: float = 12) -> str:
    fake = ctx.fake
    name = fake.name()
    lines = [
        name,
        fake.job(),
        fake.company(),
        fake.street_address(),
        f"{fake.city()} {fake.postcode()}",
    ]
    for i, line in enumerate(lines):
        para(doc, line, after=after if i == len(lines) - 1 else 0)
    return name


def letter(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    kind = rng.choice(LETTERHEADS)
    indented = rng.random() < 0.3  # modified block: date and closing start mid-page
    letterhead(doc, ctx, company(ctx), kind)
    date = day(fake, -3 * YEAR, 0).strftime(rng.choice(("%B %d, %Y", "%d %B %Y")))
    p = para(doc, date, after=12)
    if indented:
        p.paragraph_format.left_indent = Inches(3.3)
    if rng.random() < 0.3:
        para(
            doc,
            rng.choice(("BY EMAIL", "PRIVATE AND CONFIDENTIAL", "VIA COURIER")),
            bold=True,
            after=8,
        )
    name = _address(doc, ctx)
    title, paragraphs = ctx.prose(rng.choice((120, 180, 260, 380)))
    if rng.random() < 0.7:
        para(doc, f"{rng.choice(('Re:', 'Subject:', 'RE:'))} {title}", bold=True, after=10)
    para(doc, f"Dear {rng.choice(('Mr.', 'Ms.', 'Dr.'))} {name.split()[-1]},", after=8)
    align = th.align
    for text in paragraphs:
        p = para(doc, text, align=align, after=8)
        if rng.random() < 0.2:
            p.paragraph_format.first_line_indent = Inches(0.4)
    closing = para(
        doc,
        rng.choice(("Sincerely,", "Yours sincerely,", "Kind regards,", "Best regards,")),
        after=30,
    )
    sig = para(doc, fake.name(), bold=True, after=0)
    pos = para(doc, f"{fake.job()}", after=10)
    for p in (closing, sig, pos):
        if indented:
            p.paragraph_format.left_indent = Inches(3.3)
    if rng.random() < 0.4:
        para(
            doc, rng.choice(("Enclosure", "Enclosures (2)", f"cc: {fake.name()}")), size=th.size - 1
        )
    return f"letter/{kind}{'-indented' if indented else ''}"


def memo(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    kind = rng.choice(("table", "tabbed", "banner"))
    heading = rng.choice(("MEMORANDUM", "MEMO", "Internal Memo", "Interoffice Memorandum"))
    if kind == "banner":
        p = para(doc, f" {heading}", size=22, bold=True, font=th.heading, color="FFFFFF", after=14)
        shade_paragraph(p, th.accent)
    else:
        para(doc, ctx.fake.company(), size=th.size, color="555555", after=2)
        para(
            doc,
            heading,
            size=rng.choice((22, 26, 30)),
            bold=True,
            font=th.heading,
            color=th.accent,
            after=12,
        )
    title, paragraphs = ctx.prose(rng.choice((100, 160, 240)))
    date = day(fake, -3 * YEAR, 0).strftime("%B %d, %Y")
    fields = [("To:", f"{fake.name()}, {fake.job()}"), ("From:", fake.name())]
    if rng.random() < 0.5:
        fields.append(("CC:", f"{fake.name()}; {fake.name()}"))
    fields += [("Date:", date), ("Subject:", title)]
    if kind == "table":
        t = table(doc, len(fields), 2, [1.1, 5.5], borders="none")
        for i, (key, value) in enumerate(fields):
            cell_text(t.cell(i, 0), key, bold=True, after=3)
            cell_text(t.cell(i, 1), value, after=3)
    else:
        for key, value in fields:
            p = para(doc, after=3)
            p.paragraph_format.tab_stops.add_tab_stop(Inches(1.1))
            run(p, key.upper() if kind == "tabbed" else key, bold=True)
            run(p, f"\t{value}")
    rule(para(doc, "", after=12), th.accent if kind != "tabbed" else "000000", 12)
    for i, text in enumerate(paragraphs):
        para(doc, text, align=th.align, after=8)
        if i == 0 and rng.random() < 0.4:
            for item in ctx.sentences(rng.randint(2, 4)):
                p = doc.add_paragraph(item, style="List Bullet")
                p.paragraph_format.space_after = Pt(2)
    if rng.random() < 0.5:
        para(
            doc, fake.name().split()[0][0] + fake.name().split()[-1][0], before=10, size=th.size - 1
        )
    return f"memo/{kind}"
