"""Newsletters in newspaper columns and file-folder labels."""

from __future__ import annotations

from docx.document import Document as DocxDocument

from models.data.engines.dates import YEAR, day
from models.data.engines.office_page import columns
from models.data.engines.office_paragraphs import cell_text, para, rule, shade_paragraph
from models.data.engines.office_tables import cell_borders, cell_margins, shade, table
from models.data.engines.office_theme import Ctx


def newsletter(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    ncols = rng.choice((2, 2, 3))
    name = rng.choice(
        ("The {} Bulletin", "{} News", "{} Update", "Inside {}", "The {} Dispatch", "{} Weekly")
    )
    masthead = name.format(fake.last_name() if rng.random() < 0.5 else fake.city())
    banner = rng.random() < 0.4
    p = para(
        doc,
        masthead,
        size=rng.choice((28, 32, 36)),
        bold=True,
        font=th.heading,
        color="FFFFFF" if banner else th.accent,
        align=rng.choice(("left", "center")),
        after=2,
    )
    if banner:
        shade_paragraph(p, th.accent)
    date = day(fake, -2 * YEAR, 0)
    meta = para(
        doc,
        f"Volume {rng.randint(1, 30)}, Issue {rng.randint(1, 12)}    ·    {date:%B %Y}",
        size=th.size - 1,
        after=8,
    )
    rule(meta, th.accent, 18)
    title, paragraphs = ctx.prose(rng.choice((350, 450, 550)))
    para(doc, title, size=rng.choice((18, 20, 24)), bold=True, font=th.heading, after=2)
    para(doc, f"By {fake.name()}", italic=True, size=th.size - 1, color="555555", after=6)
    columns(doc, ncols, 0.25)
    for i, text in enumerate(paragraphs):
        if i and i % 2 == 0 and rng.random() < 0.6:
            para(
                doc,
                fake.catch_phrase().title(),
                bold=True,
                size=th.size + 1,
                font=th.heading,
                before=6,
                after=2,
                color=th.accent,
            )
        para(
            doc,
            text,
            align="justify" if th.justify or ncols == 3 else "left",
            after=5,
            size=th.size - (0.5 if ncols == 3 else 0),
        )
        if i == 1 and rng.random() < 0.5:
            quote = para(
                doc,
                f"“{ctx.sentences(1)[0]}”",
                italic=True,
                size=th.size + 3,
                color=th.accent,
                before=6,
                after=6,
            )
            rule(quote, th.accent, 8, "top")
            rule(quote, th.accent, 8, "bottom")
    return f"news_article/newsletter-{ncols}col"


def file_folder(doc: DocxDocument, ctx: Ctx) -> str:
    """A folder cover: a tab with the big label, file details, and often a check-out log."""
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    tab_left = rng.choice((0.0, 2.0, 4.0))
    tab = table(doc, 1, 3, [tab_left + 0.01, 2.6, 6.9 - tab_left - 2.6], borders="none")
    cell_borders(tab.cell(0, 1), "top,left,right", 18)
    label = rng.choice(
        (
            "PERSONNEL FILE",
            "CONFIDENTIAL",
            "CLIENT FILE",
            "PROJECT FILE",
            "MEDICAL RECORD",
            "CONTRACTS",
            "ACCOUNTS PAYABLE",
            "CORRESPONDENCE",
            "TAX RECORDS",
        )
    )
    cell_text(
        tab.cell(0, 1),
        fake.last_name().upper() + ", " + fake.first_name(),
        size=14,
        bold=True,
        align="center",
    )
    box = table(doc, 1, 1, [6.9], borders="grid", size=18, color="000000")
    cell_margins(box, 14, 14, 16)
    cell = box.cell(0, 0)
    cell_text(
        cell,
        label,
        size=rng.choice((36, 44, 54)),
        bold=True,
        font=th.heading,
        align="center",
        after=10,
    )
    para(
        cell,
        f"File no. {rng.randint(1000, 99999)}-{rng.choice('ABCDEFGHJK')}",
        size=20,
        align="center",
        after=6,
    )
    para(cell, f"{fake.company()}", size=16, align="center", after=4)
    start = day(fake, -12 * YEAR, -YEAR)
    para(cell, f"Opened {start:%d %b %Y}", size=14, align="center", after=4)
    if rng.random() < 0.5:
        para(
            cell,
            f"Retain until {start.year + rng.choice((7, 10, 25))}",
            size=14,
            align="center",
            after=4,
        )
    for _ in range(rng.randint(4, 12)):
        para(cell, "", after=10)
    if rng.random() < 0.6:
        para(doc, "FILE CHECK-OUT RECORD", bold=True, before=14, after=4)
        n = rng.randint(4, 9)
        log = table(doc, n + 1, 4, [1.3, 2.4, 1.9, 1.3], borders="grid", color="000000")
        for j, head in enumerate(("Date out", "Name", "Department", "Returned")):
            cell_text(log.cell(0, j), head, bold=True)
            shade(log.cell(0, j), th.light)
        for i in range(1, n + 1):
            if rng.random() < 0.5:
                cell_text(
                    log.cell(i, 0),
                    day(fake, -30 * YEAR, 0).strftime("%m/%d/%y"),
                    font="Liberation Mono",
                )
                cell_text(log.cell(i, 1), fake.name(), font="Liberation Mono")
            para(log.cell(i, 3), "", after=6)
    return f"file_folder/tab-{int(tab_left)}"
