"""Header and body blocks of business and technical documents: reports, journals, specs,
invoices, forms, questionnaires, slides, plus page furniture (sidebars, banners, ruled paper)."""

from __future__ import annotations

from models.data import blocks_graphic as graphic
from models.data import blocks_text as text
from models.data.canvas import line_height
from models.data.layout import Ctx, Flow


def sidebar(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Law-firm style: partner names down the left margin; the flow narrows beside them."""
    t, w = ctx.theme, int(flow.width * 0.24)
    y = flow.y + int(ctx.canvas.height * 0.12)
    for _ in range(ctx.rng.randint(6, 14)):
        ctx.canvas.write(flow.x0, y, ctx.content.name(), t.small, t.ink)
        y += line_height(t.small, 1.6)
    flow.x0 += w + t.size


def contd(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Continuation-page header of a letter: recipient, page number and date on one line."""
    name = ctx.value("recipient", ctx.content.name)
    text.line(
        ctx,
        flow,
        f"{name}  -  Page {ctx.rng.randint(2, 4)}  -  {ctx.value('date', ctx.content.date)}",
    )
    ctx.value("sender", ctx.content.name)
    flow.gap(ctx.theme.size * 2)


def banner(ctx: Ctx, flow: Flow, arg: str) -> None:
    """The printing user's name above a printed e-mail, as mail clients print it."""
    text.line(ctx, flow, arg or ctx.content.name(), ctx.theme.h2)
    graphic.rule(ctx, flow, "2")


def header_note(ctx: Ctx, flow: Flow, arg: str) -> None:
    text.line(
        ctx,
        flow,
        arg or ctx.rng.choice(("CONFIDENTIAL", "PERSONAL", "URGENT", "DRAFT")),
        ctx.theme.h1,
        "center",
    )


def ruled_paper(ctx: Ctx, flow: Flow, arg: str) -> None:
    cv, step = ctx.canvas, int(ctx.theme.hand.size * 1.6)
    for y in range(flow.y + step, cv.height - step, step):
        cv.rule(0, y, cv.width, 1, 170)
    cv.draw.line([(flow.x0 - 12, 0), (flow.x0 - 12, cv.height)], fill=150, width=2)


def _hand_field(ctx: Ctx, flow: Flow, x: float, name: str, make: object) -> None:
    """A key field written by hand on its own line, starting at x."""
    ctx.canvas.write(x, flow.y, ctx.value(name, make), ctx.theme.hand, 20, "hand")
    flow.gap(line_height(ctx.theme.hand, 1.6))


def hand_date(ctx: Ctx, flow: Flow, arg: str) -> None:
    _hand_field(ctx, flow, flow.x1 - ctx.theme.size * 10, "date", ctx.content.date)


def hand_sign(ctx: Ctx, flow: Flow, arg: str) -> None:
    _hand_field(ctx, flow, flow.x0 + flow.width // 2, "author", ctx.content.name)


def report_cover(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    flow.gap(ctx.canvas.height * ctx.rng.uniform(0.05, 0.2))
    text.line(ctx, flow, ctx.value("organization", c.company), t.h1, "center")
    flow.gap(t.size * 3)
    text.title(ctx, flow, "center")
    text.line(
        ctx,
        flow,
        f"Report No. {ctx.value('report_number', lambda: c.code('??-###-##'))}",
        t.h2,
        "center",
    )
    flow.gap(t.size * 2)
    text.line(ctx, flow, f"Prepared by {c.name()}", t.body, "center")
    text.line(ctx, flow, ctx.value("date", c.date), t.body, "center")


def running_head(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Report running head: organization, report number, short title and date."""
    t, c = ctx.theme, ctx.content
    org = ctx.value("organization", c.company)
    num = ctx.value("report_number", lambda: c.code("??-###-##"))
    text.line(ctx, flow, f"{org}  {num}  {ctx.value('date', c.date)}", t.small, "right")
    text.line(ctx, flow, text.title_text(ctx, "science"), t.small_bold, "left")
    graphic.rule(ctx, flow, "1")


def contents(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    text.line(ctx, flow, "Table of Contents", t.h2)
    for i in range(ctx.rng.randint(5, 12)):
        if flow.room < line_height(t.body, 1.5):
            return
        entry = f"{i + 1}. {text.section_name(ctx)}"
        ctx.canvas.write(flow.x0, flow.y, entry, t.body, t.ink)
        ctx.canvas.write_aligned(flow.x0, flow.x1, flow.y, str(i * 3 + 1), t.body, "right", t.ink)
        flow.y += line_height(t.body, 1.5)


def journal_head(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c, r = ctx.theme, ctx.content, ctx.rng
    journal = ctx.value(
        "journal",
        lambda: f"{c.pick('journal_lead')} {c.pick('journal_field')}",
    )
    year = ctx.value("year", lambda: str(c.year()))
    text.line(
        ctx,
        flow,
        f"{journal} {r.randint(1, 80)} ({year}) {r.randint(1, 900)}-{r.randint(901, 999)}",
        t.small,
        r.choice(("left", "center", "right")),
    )
    graphic.rule(ctx, flow, "1")
    if "authors" not in ctx.fields and "title" not in ctx.fields:
        ctx.value("authors", lambda: f"{c.fake.last_name()} et al.")
        text.line(
            ctx,
            flow,
            f"{ctx.fields['authors']}  /  {text.title_text(ctx, 'science')}",
            t.italic,
            "center",
        )


def references(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    for i in range(ctx.rng.randint(6, 20)):
        ref = (
            f"[{i + 1}] {c.fake.last_name()}, {c.fake.first_name()[0]}. ({c.year()}). "
            f"{c.title('science')}. {ctx.fields.get('journal', 'J. Appl. Chem.')} "
            f"{c.number(1, 90)}, {c.number(1, 800)}."
        )
        if flow.room < t.size * 2:
            return
        flow.y = ctx.canvas.paragraph(
            flow.x0, flow.y, flow.width, ref, t.small, max_y=flow.y1, fill=t.ink
        )
