"""Resumes: a shaded sidebar, a classic centred layout, or section names in a left column."""

from __future__ import annotations

from typing import Any

from docx.document import Document as DocxDocument

from models.data.engines import office_text as words
from models.data.engines.office_paragraphs import cell_text, para, rule, run
from models.data.engines.office_tables import cell_margins, shade, table
from models.data.engines.office_theme import Ctx


def _heading(container: object, ctx: Ctx, text: str, style: str, size: float = 0) -> None:
    th = ctx.theme
    size = size or th.size + 2
    if style == "rule":
        rule(
            para(
                container,
                text.upper(),
                bold=True,
                size=size,
                font=th.heading,
                color=th.accent,
                before=8,
                after=4,
            ),
            th.accent,
            6,
        )
    elif style == "caps":
        para(
            container,
            text.upper(),
            bold=True,
            size=size - 1,
            font=th.heading,
            before=8,
            after=3,
            color=th.accent,
        )
    else:
        para(container, text, bold=True, size=size + 1, font=th.heading, before=8, after=3)


def _jobs(ctx: Ctx, container: Any, n: int) -> None:
    rng, fake = ctx.rng, ctx.fake
    year = rng.randint(2016, 2023)
    for _ in range(n):
        start = year - rng.randint(1, 4)
        p = para(container, "", before=4, after=0)
        run(p, fake.job(), bold=True)
        run(p, f"  |  {fake.company()}, {fake.city()}")
        para(
            container,
            f"{start} – {year if year < 2023 else 'present'}",
            italic=True,
            size=ctx.theme.size - 1,
            color="555555",
            after=2,
        )
        for _ in range(rng.randint(2, 3)):
            text = rng.choice(words.ACHIEVE).format(
                n=rng.randint(3, 40), p=rng.randint(5, 60), k=rng.randint(20, 900), bs=fake.bs()
            )
            p = container.add_paragraph(text, style="List Bullet")
            p.paragraph_format.space_after = 0
        year = start


def resume(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    kind = rng.choice(("sidebar", "classic", "left-headings"))
    style = rng.choice(("rule", "caps", "plain"))
    name = fake.name()
    contact = [
        fake.email(),
        fake.phone_number(),
        f"{fake.city()}, {fake.country_code()}",
        f"linkedin.com/in/{name.split()[0].lower()}{rng.randint(1, 99)}",
    ]
    summary = f"{fake.job()} with {rng.randint(3, 20)} years of experience. " + " ".join(
        ctx.sentences(2)
    )
    skills = rng.sample(words.SKILLS, rng.randint(5, 9))
    edu = [
        (rng.choice(words.DEGREES), f"University of {fake.city()}", str(rng.randint(1995, 2020)))
        for _ in range(rng.randint(1, 2))
    ]
    if kind == "sidebar":
        t = table(doc, 1, 2, [2.3, 4.6], borders="none")
        cell_margins(t, 6, 6, 8)
        side, main = t.cell(0, 0), t.cell(0, 1)
        shade(side, th.light)
        cell_text(side, name, size=18, bold=True, font=th.heading, color=th.accent, after=10)
        _heading(side, ctx, "Contact", "caps", th.size)
        for line in contact:
            para(side, line, size=th.size - 1.5, after=2)
        _heading(side, ctx, "Skills", "caps", th.size)
        for skill in skills:
            para(side, f"• {skill}", size=th.size - 1, after=1)
        _heading(side, ctx, "Education", "caps", th.size)
        for degree, school, year in edu:
            para(side, degree, bold=True, size=th.size - 1, after=0)
            para(side, f"{school}, {year}", size=th.size - 1.5, after=4)
        cell_text(main, "Profile", bold=True, size=th.size + 2, color=th.accent, after=3)
        para(main, summary, after=6)
        _heading(main, ctx, "Experience", style)
        _jobs(ctx, main, rng.randint(2, 4))
    else:
        align = "center" if kind == "classic" else "left"
        para(
            doc,
            name,
            size=rng.choice((20, 24, 28)),
            bold=True,
            font=th.heading,
            color=th.accent,
            align=align,
            after=2,
        )
        para(doc, "  ·  ".join(contact), size=th.size - 1, align=align, after=8)
        sections = [
            ("Summary", [summary]),
            ("Experience", []),
            ("Skills", [", ".join(skills)]),
            ("Education", [f"{d}, {s} ({y})" for d, s, y in edu]),
        ]
        for title, lines in sections:
            if kind == "left-headings":
                t = table(doc, 1, 2, [1.5, 5.4], borders="none")
                cell_text(t.cell(0, 0), title.upper(), bold=True, color=th.accent, size=th.size)
                body: Any = t.cell(0, 1)
                first = True
            else:
                _heading(doc, ctx, title, style)
                body, first = doc, False
            if title == "Experience":
                _jobs(ctx, body, rng.randint(2, 4))
            for line in lines:
                cell_text(body, line) if first else para(body, line, after=3)
                first = False
    return f"resume/{kind}-{style}"
