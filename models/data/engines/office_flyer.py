"""Flyers and small advertisements: a display headline, an illustration, perks and a call to
action."""

from __future__ import annotations

import io

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches
from PIL import Image, ImageDraw

from models.data.engines.dates import day
from models.data.engines.office_paragraphs import cell_text, para, run, shade_paragraph
from models.data.engines.office_tables import shade, table
from models.data.engines.office_theme import Ctx

COPY = {
    "sale": (
        "Everything must go! Huge savings across the store on {a}, {b} and much more.",
        "Offer valid while stocks last. Visit us in store or shop online.",
    ),
    "event": (
        "Join us for a day of {a}, {b} and fun for the whole family.",
        "Entry is free. Food and drinks available on site.",
    ),
    "service": (
        "Reliable, friendly and affordable - we take care of {a} and {b} so you don't have to.",
        "Serving the area for over {n} years.",
    ),
    "hiring": (
        "We are a growing team looking for people who enjoy {a} and {b}.",
        "Competitive salary, training and a great place to work.",
    ),
}
EVENTS = ("Community Fair", "Food Festival", "Tech Meetup", "Open Day", "Charity Run")
THEMES = (
    "home furniture",
    "garden tools",
    "live music",
    "local food",
    "workshops",
    "electronics",
    "kitchenware",
    "children's activities",
    "customer care",
    "problem solving",
    "outdoor games",
)
PERKS = (
    "Free parking",
    "Family friendly",
    "Free estimates",
    "Same-day service",
    "Flexible hours",
    "Great benefits",
    "Live music",
    "Licensed and insured",
    "Free delivery over $50",
    "Student discount",
    "Online booking",
    "Satisfaction guaranteed",
)


def _picture(ctx: Ctx, width: int, height: int) -> bytes:
    """A flat illustration standing in for the flyer's photo: overlapping shapes in the accent
    colour and greys, the way stock artwork reads once printed in grayscale."""
    rng = ctx.rng
    img = Image.new("RGB", (width, height), "#" + rng.choice(("F4F4F4", "E8E8E8", ctx.theme.light)))
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(5, 12)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(height // 8, height // 2)
        fill = rng.choice(("#" + ctx.theme.accent, "#9A9A9A", "#C8C8C8", "#5A5A5A", "#FFFFFF"))
        if rng.random() < 0.5:
            d.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        else:
            d.rectangle([x - r, y - r // 2, x + r, y + r // 2], fill=fill)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def flyer(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    kind = rng.choice(tuple(COPY))
    heads = {
        "sale": (
            f"{rng.choice(('SUMMER', 'SPRING', 'END OF SEASON', 'CLEARANCE'))} SALE",
            f"Up to {rng.choice((30, 40, 50, 70))}% off",
        ),
        "event": (
            f"{fake.city()} {rng.choice(EVENTS)}",
            f"{day(fake, 0, 90):%A, %B %d} · {rng.randint(9, 11)} am – {rng.randint(3, 8)} pm",
        ),
        "service": (
            rng.choice(
                ("Professional Cleaning", "Home Repairs", "Garden Care", "IT Support", "Tutoring")
            ),
            fake.catch_phrase(),
        ),
        "hiring": ("WE'RE HIRING!", f"{fake.job()} · {rng.choice(('Full-time', 'Part-time'))}"),
    }[kind]
    banner = rng.random() < 0.6
    p = para(
        doc,
        heads[0],
        size=rng.choice((40, 48, 54)),
        bold=True,
        font=th.heading,
        align="center",
        color="FFFFFF" if banner else th.accent,
        after=4,
    )
    if banner:
        shade_paragraph(p, th.accent)
    para(
        doc,
        heads[1],
        size=rng.choice((20, 24, 28)),
        bold=True,
        align="center",
        color=th.accent,
        after=12,
    )
    doc.add_picture(
        io.BytesIO(_picture(ctx, 1100, rng.choice((450, 550, 650)))),
        width=Inches(rng.choice((5.0, 6.0))),
    )
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    a, b = rng.sample(THEMES, 2)
    for line in COPY[kind]:
        para(
            doc,
            line.format(a=a, b=b, n=rng.randint(5, 30)),
            size=th.size + 4,
            align="center",
            before=4,
            after=6,
        )
    perks = rng.sample(PERKS, rng.randint(3, 5))
    t = table(doc, len(perks), 1, [4.5], borders="none")
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, perk in enumerate(perks):
        cell_text(t.cell(i, 0), f"✔  {perk}", size=th.size + 5, align="center", after=4)
    if kind in ("sale", "service"):
        price = para(doc, "", align="center", before=10, after=8)
        run(price, rng.choice(("from ", "only ", "just ")), size=18)
        run(
            price,
            f"${rng.randint(9, 199)}.{rng.choice(('00', '99', '95'))}",
            size=40,
            bold=True,
            color=th.accent,
        )
    box = table(doc, 1, 1, [5.5], borders="grid", size=12, color=th.accent)
    box.alignment = WD_TABLE_ALIGNMENT.CENTER
    shade(box.cell(0, 0), th.light)
    action = rng.choice(("Call today: ", "Book now: ", "Apply at ", "Visit "))
    contact = rng.choice((fake.phone_number(), f"www.{fake.domain_word()}.com"))
    cell_text(
        box.cell(0, 0), action + contact, size=th.size + 5, bold=True, align="center", after=2
    )
    para(
        box.cell(0, 0),
        f"{fake.company()} · {fake.street_address()}, {fake.city()}",
        size=th.size,
        align="center",
    )
    return f"advertisement/flyer-{kind}"
