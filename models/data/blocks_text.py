"""Text blocks of the shared page vocabulary: headers, addresses, prose, signatures, footers.

A block is `f(ctx, flow, arg)`: it draws at flow.y inside the flow's width, advances flow.y
and records the key fields it renders through ctx.value()."""

from __future__ import annotations

from models.data.blocks_graphic import draw_logo
from models.data.canvas import Font, line_height
from models.data.content import headline
from models.data.layout import Ctx, Flow


def line(
    ctx: Ctx,
    flow: Flow,
    text: str,
    font: Font | None = None,
    align: str = "left",
    kind: str = "print",
    leading: float = 1.3,
) -> None:
    """One line at the flow's cursor if it fits; text wider than the flow wraps."""
    f = font or ctx.theme.body
    step = line_height(f, leading)
    if flow.room < step:
        return
    if f.getlength(text) > flow.width:
        flow.y = ctx.canvas.paragraph(
            flow.x0,
            flow.y,
            flow.width,
            text,
            f,
            max_y=flow.y1,
            leading=leading,
            align=align,
            fill=ctx.theme.ink,
            kind=kind,
        )
        return
    ctx.canvas.write_aligned(flow.x0, flow.x1, flow.y, text, f, align, ctx.theme.ink, kind)
    flow.y += step


def lines(
    ctx: Ctx,
    flow: Flow,
    rows: list[str],
    font: Font | None = None,
    align: str = "left",
    kind: str = "print",
) -> None:
    for row in rows:
        line(ctx, flow, row, font, align, kind)


def letterhead(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    org = ctx.value("sender_org", c.company)
    align = arg or "center"
    size = int(t.size * ctx.rng.uniform(2.2, 3.4))
    if ctx.chance(0.7):
        lx = {"left": flow.x0, "right": flow.x1 - size, "center": (flow.x0 + flow.x1 - size) // 2}
        draw_logo(ctx, lx[align], flow.y, size)
        flow.gap(size + 4)
    line(ctx, flow, org, t.title if ctx.chance(0.5) else t.h1, align)
    line(ctx, flow, " ".join(c.address_lines()), t.small, align)
    if ctx.chance(0.6):
        line(ctx, flow, f"Telephone {c.phone()}  Fax {c.phone()}", t.small, align)
    if ctx.chance(0.6):
        ctx.canvas.rule(flow.x0, flow.y + 2, flow.x1, ctx.rng.choice((1, 2, 3)), ctx.theme.ink)
    flow.gap(t.size * 2)


def sender_address(ctx: Ctx, flow: Flow, arg: str) -> None:
    name = ctx.value("sender", ctx.content.name)
    lines(ctx, flow, [name, *ctx.content.address_lines()], align=arg or "right")
    flow.gap(ctx.theme.size)


def date(ctx: Ctx, flow: Flow, arg: str) -> None:
    d = ctx.value("date", ctx.content.date)
    place = f"{ctx.content.city()}, " if ctx.chance(0.2) else ""
    line(ctx, flow, place + d, align=arg or "left")
    flow.gap(ctx.theme.size)


def address(ctx: Ctx, flow: Flow, arg: str) -> None:
    c = ctx.content
    name = ctx.value("recipient", c.name)
    prefix = ctx.rng.choice(("", "", "Mr. ", "Ms. ", "Dr. "))
    rows = [prefix + name]
    if ctx.chance(0.6):
        rows.append(c.job().title())
    rows += [ctx.value("recipient_org", c.company), *c.address_lines()]
    if arg == "window":  # placed where an envelope window shows it
        flow.y = max(flow.y, int(ctx.canvas.height * 0.2))
    lines(ctx, flow, rows)
    flow.gap(ctx.theme.size * 1.5)


def subject(ctx: Ctx, flow: Flow, arg: str) -> None:
    s = ctx.value("subject", lambda: ctx.content.title("business"))
    lead = arg or ctx.rng.choice(("Re:", "RE:", "Subject:", "Ref:"))
    line(ctx, flow, f"{lead} {s}", ctx.theme.bold)
    flow.gap(ctx.theme.size * 0.8)


def salutation(ctx: Ctx, flow: Flow, arg: str) -> None:
    name = ctx.fields.get("recipient", "")
    last = name.split()[-1] if name else "Sir or Madam"
    line(
        ctx,
        flow,
        ctx.rng.choice(
            (
                f"Dear Mr. {last}:",
                f"Dear Ms. {last},",
                f"Dear {name},",
                "Dear Sir or Madam:",
                f"Dear Dr. {last}:",
            )
        ),
    )
    flow.gap(ctx.theme.size * 0.6)


def body(ctx: Ctx, flow: Flow, arg: str) -> None:
    n = int(arg or ctx.rng.randint(2, 5))
    t = ctx.theme
    align = "justify" if ctx.chance(0.3) else "left"
    indent = t.size * 2 if ctx.chance(0.3) else 0
    for _ in range(n):
        if flow.room < t.size * 3:
            return
        text = ctx.content.paragraph(ctx.genre)
        flow.y = ctx.canvas.paragraph(
            flow.x0,
            flow.y,
            flow.width,
            text,
            t.body,
            max_y=flow.y1,
            align=align,
            fill=t.ink,
            indent=indent,
            leading=ctx.rng.uniform(1.2, 1.5),
        )
        flow.gap(t.size * (0.7 if indent else 1.0))


def closing(ctx: Ctx, flow: Flow, arg: str) -> None:
    flow.gap(ctx.theme.size * 0.5)
    line(
        ctx,
        flow,
        ctx.rng.choice(
            (
                "Sincerely,",
                "Sincerely yours,",
                "Yours truly,",
                "Best regards,",
                "Very truly yours,",
                "Kind regards,",
            )
        ),
        align=arg or "left",
    )


def signature(ctx: Ctx, flow: Flow, arg: str) -> None:
    c, t = ctx.content, ctx.theme
    name = ctx.value("sender", c.name)
    if arg != "typed":
        line(ctx, flow, name, t.hand, kind="hand", leading=1.1)
    else:
        flow.gap(t.size * 2.5)
    line(ctx, flow, name)
    if ctx.chance(0.7):
        line(ctx, flow, c.job().title())
    flow.gap(t.size)


def cc(ctx: Ctx, flow: Flow, arg: str) -> None:
    names = ", ".join(ctx.content.name() for _ in range(ctx.rng.randint(1, 3)))
    line(
        ctx,
        flow,
        f"{arg or ctx.rng.choice(('cc:', 'CC:', 'bcc:', 'Copies to:'))} {names}",
        ctx.theme.small,
    )
    if ctx.chance(0.3):
        line(
            ctx,
            flow,
            ctx.rng.choice(("Enclosure", "Enclosures (2)", "Attachment")),
            ctx.theme.small,
        )


def footer(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    text = arg or ctx.rng.choice(
        (
            " | ".join(c.address_lines()),
            f"{c.company()} - Confidential",
            f"Page {ctx.rng.randint(1, 9)} of {ctx.rng.randint(9, 20)}",
            c.code("####-####"),
        )
    )
    y = ctx.canvas.height - int(ctx.canvas.height * ctx.rng.uniform(0.04, 0.07))
    ctx.canvas.write_aligned(
        flow.x0, flow.x1, y, text, t.small, ctx.rng.choice(("center", "left", "right")), t.ink
    )


def heading(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    text = arg or section_name(ctx)
    if ctx.chance(0.4):
        text = f"{ctx.rng.randint(1, 6)}. {text}"
    flow.gap(t.size * 0.4)
    line(ctx, flow, text.upper() if ctx.chance(0.3) else text, t.h2)


def section_name(ctx: Ctx) -> str:
    if ctx.genre == "science":
        return ctx.rng.choice(
            (
                "Introduction",
                "Methods",
                "Results",
                "Discussion",
                "Summary",
                "Materials and Methods",
                "Conclusions",
                "Background",
            )
        )
    return ctx.content.pick("slide_word")


def title_text(ctx: Ctx, genre: str = "") -> str:
    """The page's title field, made on first use."""
    return ctx.value("title", lambda: headline(ctx.content.title(genre or ctx.genre)))


def title(ctx: Ctx, flow: Flow, arg: str) -> None:
    text = title_text(ctx)
    f = ctx.theme.title
    for row in ctx.canvas.wrap(text, f, flow.width)[:3]:
        line(ctx, flow, row, f, arg or "center", leading=1.15)
    flow.gap(ctx.theme.size)


def bullets(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    mark = ctx.rng.choice(("-", "*", "o", ">"))
    for _ in range(int(arg or ctx.rng.randint(3, 6))):
        if flow.room < t.size * 2:
            return
        ctx.canvas.write(flow.x0 + t.size, flow.y, mark, t.body, t.ink)
        text = ctx.content.sentence(ctx.genre)
        flow.y = ctx.canvas.paragraph(
            flow.x0 + t.size * 2.5,
            flow.y,
            flow.width - t.size * 2.5,
            text,
            t.body,
            max_y=flow.y1,
            fill=t.ink,
        )
        flow.gap(t.size * 0.4)


def kv(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Label/value rows; `arg` lists field names, rendered with their page values."""
    t = ctx.theme
    for name in (arg or "date").split("+"):
        value = ctx.value(name, lambda n=name: field_value(ctx, n))
        label = name.replace("_", " ").title().replace("Number", "No.") + ":"
        if flow.room < line_height(t.body):
            return
        ctx.canvas.write(flow.x0, flow.y, label, t.bold, t.ink)
        ctx.canvas.write(flow.x0 + t.size * 9, flow.y, value, t.body, t.ink)
        flow.y += line_height(t.body)
    flow.gap(t.size)


def field_value(ctx: Ctx, name: str) -> str:
    c = ctx.content
    makers = {
        "date": c.date,
        "invoice_number": lambda: c.code("#####"),
        "due_date": c.date,
        "po_number": lambda: c.code("PO-#####"),
        "customer": c.company,
        "vendor": c.company,
        "revision": lambda: c.code("?"),
        "spec_number": lambda: c.code("SP-####-##"),
        "report_number": lambda: c.code("??-###-##"),
        "file_number": lambda: c.code("####-?"),
        "period": lambda: f"FY {c.year()}",
        "organization": c.company,
        "name": c.name,
        "form_number": lambda: c.code("Form ###-?"),
        "project": lambda: c.title("business"),
        "account": lambda: c.code("###-####-##"),
        "prepared_by": c.name,
        "to": c.name,
        "from": c.name,
        "subject": lambda: c.title("business"),
        "presenter": c.name,
    }
    return str(makers[name]())
