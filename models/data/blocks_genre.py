"""Blocks that belong to one or two genres: memo and e-mail headers, résumé sections, journal
front matter, newspaper columns, handwriting, folder tabs, advertisement and slide furniture."""

from __future__ import annotations

from models.data import blocks_graphic as graphic
from models.data import blocks_text as text
from models.data.canvas import line_height
from models.data.layout import Ctx, Flow


def memo_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c, r = ctx.theme, ctx.content, ctx.rng
    if arg != "bare":
        word = r.choice(
            ("MEMORANDUM", "Memorandum", "INTEROFFICE MEMO", "MEMO", "INTER-OFFICE CORRESPONDENCE")
        )
        text.line(
            ctx, flow, word, t.title if r.random() < 0.5 else t.h1, r.choice(("left", "center"))
        )
        flow.gap(t.size)
    rows = [
        ("TO:", ctx.value("to", c.name)),
        ("FROM:", ctx.value("from", c.name)),
        ("DATE:", ctx.value("date", c.date)),
        (
            "SUBJECT:" if r.random() < 0.6 else "RE:",
            ctx.value("subject", lambda: c.title("business")),
        ),
    ]
    if r.random() < 0.4:
        rows.insert(2, ("CC:", c.name()))
    if r.random() < 0.5:
        rows = [(k.title(), v) for k, v in rows]
    for key, value in rows:
        ctx.canvas.write(flow.x0, flow.y, key, t.bold, t.ink)
        ctx.canvas.write(flow.x0 + t.size * 7, flow.y, value, t.body, t.ink)
        flow.y += line_height(t.body, 1.6)
    ctx.canvas.rule(flow.x0, flow.y + 4, flow.x1, r.choice((1, 2)), t.ink)
    flow.gap(t.size * 2)


def email_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c, r = ctx.theme, ctx.content, ctx.rng
    sender, to = c.name(), c.name()
    ctx.value("from", f"{sender} <{c.email(sender)}>" if r.random() < 0.6 else c.email(sender))
    ctx.value("to", c.email(to))
    ctx.value("date", c.date())
    ctx.value("subject", c.title("business"))
    rows = [
        ("From:", ctx.fields["from"]),
        (
            "Sent:" if arg == "outlook" else "Date:",
            f"{ctx.fields['date']} {r.randint(8, 18)}:{r.randint(0, 59):02d}",
        ),
        ("To:", ctx.fields["to"]),
        ("Subject:", ctx.fields["subject"]),
    ]
    if r.random() < 0.4:
        rows.insert(3, ("Cc:", c.email()))
    if arg == "raw":
        rows = [
            ("Received:", f"from {c.english.domain_name()} by {c.english.hostname()}"),
            ("Message-ID:", f"<{c.code('########')}@{c.english.domain_name()}>"),
            *rows,
        ]
    if arg == "quoted":
        text.line(ctx, flow, "-----Original Message-----", t.body)
    font = t.mono if r.random() < 0.5 else t.body
    for key, value in rows:
        ctx.canvas.write(flow.x0, flow.y, key, t.bold, t.ink)
        flow.y = ctx.canvas.paragraph(
            flow.x0 + t.size * 6,
            flow.y,
            flow.width - t.size * 6,
            value,
            font,
            max_y=flow.y1,
            fill=t.ink,
        )
    flow.gap(t.size * 1.5)


def quote(ctx: Ctx, flow: Flow, arg: str) -> None:
    """A quoted earlier message, '>' prefixed, as in replies."""
    t = ctx.theme
    for sentence in ctx.content.paragraph("business", int(arg or 4)).split(". "):
        for line in ctx.canvas.wrap(sentence, t.body, flow.width - t.size * 2):
            text.line(ctx, flow, f"> {line}", t.body)


def resume_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    name = ctx.value("name", c.name)
    align = arg or ctx.rng.choice(("left", "center"))
    text.line(ctx, flow, name.upper() if ctx.chance(0.4) else name, t.h1, align)
    text.line(ctx, flow, " ".join(c.address_lines()), t.small, align)
    contact = f"{ctx.value('phone', c.phone)}  |  {ctx.value('email', lambda: c.email(name))}"
    text.line(ctx, flow, contact, t.small, align)
    graphic.rule(ctx, flow, "")


def resume_section(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c, r = ctx.theme, ctx.content, ctx.rng
    section = arg or r.choice(("Experience", "Education", "Skills"))
    text.line(ctx, flow, section.upper() if r.random() < 0.5 else section, t.h2)
    if section == "Skills":
        text.line(ctx, flow, ", ".join(c.pick("skill") for _ in range(5)))
    elif section == "Education":
        for _ in range(r.randint(1, 3)):
            text.line(ctx, flow, f"{c.pick('degree')}, {c.company()} University, {c.year()}")
    else:
        for _ in range(r.randint(1, 3)):
            y0 = c.year()
            text.line(
                ctx, flow, f"{c.job().title()}, {c.company()}  {y0 - r.randint(1, 6)}-{y0}", t.bold
            )
            text.bullets(ctx, flow, str(r.randint(1, 3)))
    flow.gap(t.size * 0.6)


def authors(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    names = ", ".join(c.name() for _ in range(ctx.rng.randint(1, 5)))
    ctx.value("authors", names)
    flow.y = ctx.canvas.paragraph(
        flow.x0, flow.y, flow.width, names, t.bold, max_y=flow.y1, align=arg or "center", fill=t.ink
    )
    text.line(ctx, flow, f"{c.pick('dept')}, {c.company()}, {c.city()}", t.italic, arg or "center")
    flow.gap(t.size)


def abstract(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    text.line(ctx, flow, ctx.rng.choice(("Abstract", "ABSTRACT", "Summary")), t.bold, arg or "left")
    inset = t.size * 2 if ctx.chance(0.5) else 0
    flow.y = ctx.canvas.paragraph(
        flow.x0 + inset,
        flow.y,
        flow.width - 2 * inset,
        ctx.content.paragraph("science", ctx.rng.randint(3, 6)),
        t.italic if ctx.chance(0.5) else t.body,
        max_y=flow.y1,
        align="justify",
        fill=t.ink,
    )
    flow.gap(t.size)


def columns(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Fill the rest of the flow with n columns of headed prose (and now and then a figure)."""
    n = int(arg or 2)
    t = ctx.theme
    for col in flow.split(n, t.size * 2):
        while col.room > t.size * 4:
            if ctx.chance(0.25):
                text.heading(ctx, col, "")
            if ctx.genre == "science" and ctx.chance(0.12):
                graphic.figure(ctx, col, "")
            text.body(ctx, col, "1")
    flow.y = flow.y1
