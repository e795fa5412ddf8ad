"""Blocks of forms, tables-first documents and slides: specifications, invoices, forms,
questionnaires and slide titles."""

from __future__ import annotations

from models.data import blocks_graphic as graphic
from models.data import blocks_text as text
from models.data.canvas import line_height
from models.data.layout import Ctx, Flow


def spec_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Specification header: a ruled box of number, revision, date and title."""
    t, cv = ctx.theme, ctx.canvas
    top = flow.y
    text.line(
        ctx,
        flow,
        ctx.rng.choice(
            (
                "SPECIFICATION",
                "MATERIAL SPECIFICATION",
                "PRODUCT SPECIFICATION",
                "Technical Specification",
            )
        ),
        t.h1,
        "center",
    )
    text.title_text(ctx, "spec")
    text.line(ctx, flow, ctx.fields["title"], t.h2, "center")
    if arg != "plain":
        cv.rect(
            (flow.x0 - 6, top - 6, flow.x1 + 6, flow.y + line_height(t.body) * 2 + 6),
            outline=t.ink,
            width=2,
        )
    for name in ("spec_number", "revision", "date"):
        ctx.value(name, lambda n=name: text.field_value(ctx, n))
    text.line(
        ctx,
        flow,
        f"Spec. No. {ctx.fields['spec_number']}   Rev. {ctx.fields['revision']}   "
        f"Effective {ctx.fields['date']}",
        t.body,
        "center",
    )
    flow.gap(t.size * 2)


def clauses(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    for i in range(int(arg or ctx.rng.randint(3, 6))):
        text.line(
            ctx,
            flow,
            f"{i + 1}.0 {ctx.content.pick('clause')}",
            t.bold,
        )
        for j in range(ctx.rng.randint(1, 3)):
            if flow.room < t.size * 3:
                return
            flow.y = ctx.canvas.paragraph(
                flow.x0 + t.size * 2,
                flow.y,
                flow.width - t.size * 2,
                f"{i + 1}.{j + 1} {ctx.content.sentence('spec')}",
                t.body,
                max_y=flow.y1,
                fill=t.ink,
            )
        flow.gap(t.size * 0.6)


def approvals(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, cv = ctx.theme, ctx.canvas
    for sub in flow.split(3, t.size, t.size * 5):
        cv.rect((sub.x0, sub.y, sub.x1, sub.y1), outline=t.ink)
        cv.write(
            sub.x0 + 4,
            sub.y + 4,
            ctx.rng.choice(("Prepared", "Approved", "Checked", "QA")),
            t.small_bold,
            t.ink,
        )
        cv.write(sub.x0 + 4, sub.y + t.size * 2.5, ctx.content.name(), t.hand, 30, "hand")
    flow.gap(t.size * 6)


def invoice_head(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    word = arg or ctx.rng.choice(("INVOICE", "Invoice", "STATEMENT", "PRO FORMA INVOICE", "BILL"))
    ctx.value(
        "vendor", ctx.fields.get("sender_org") or ctx.fields.get("sender") or ctx.content.company()
    )
    if "sender_org" not in ctx.fields and "sender" not in ctx.fields:
        text.line(ctx, flow, ctx.fields["vendor"], t.h1)
    text.line(ctx, flow, word, t.title, ctx.rng.choice(("left", "right", "center")))
    text.kv(
        ctx,
        flow,
        ctx.rng.choice(
            ("invoice_number+date", "invoice_number+date+due_date", "date+invoice_number+po_number")
        ),
    )


def bill_to(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    text.line(
        ctx, flow, ctx.rng.choice(("Bill To:", "Sold To:", "Customer:", "Invoice to:")), t.bold
    )
    text.lines(ctx, flow, [ctx.value("customer", c.company), *c.address_lines()])
    flow.gap(t.size)


def terms(ctx: Ctx, flow: Flow, arg: str) -> None:
    days = ctx.rng.choice((10, 15, 30, 60))
    text.line(
        ctx,
        flow,
        f"Terms: net {days} days. Please remit payment to {ctx.fields.get('vendor', '')}.",
        ctx.theme.small,
    )
    text.line(ctx, flow, "Thank you for your business.", ctx.theme.italic)


def form_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    number = ctx.value(
        "form_number", lambda: c.code(ctx.rng.choice(("Form ###-?", "FORM ##", "No. ####-##")))
    )
    kind = ctx.rng.choice(
        ("Application", "Request", "Registration", "Claim", "Authorization", "Order", "Report")
    )
    title = ctx.value("form_title", lambda: f"{c.pick('biz_noun').title()} {kind} Form")
    text.line(ctx, flow, f"{number}   Rev. {c.date()}", t.small, ctx.rng.choice(("left", "right")))
    text.line(ctx, flow, title.upper() if ctx.chance(0.5) else title, t.h1, arg or "center")
    if ctx.chance(0.5):
        text.line(
            ctx, flow, "Please type or print clearly. Complete all sections.", t.italic, "center"
        )
    flow.gap(t.size)


def boxes_grid(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Government-style form: ruled cells each with a small caption and an optional entry."""
    t, cv, r = ctx.theme, ctx.canvas, ctx.rng
    rows = int(arg or r.randint(4, 9))
    h = t.size * 3
    for _ in range(rows):
        if flow.room < h:
            return
        for sub in flow.split(r.randint(1, 4), 0, h):
            cv.rect((sub.x0, sub.y, sub.x1, sub.y1), outline=t.ink)
            cap = f"{r.randint(1, 40)}. {ctx.content.pick('form_label')}"
            cv.write(sub.x0 + 3, sub.y + 2, cap, t.small, t.ink)
            if r.random() < 0.6:
                hand = r.random() < 0.4
                cv.write(
                    sub.x0 + t.size,
                    sub.y + t.size * 1.3 - (6 if hand else 0),
                    ctx.content.words(2),
                    t.hand if hand else t.body,
                    30 if hand else t.ink,
                    "hand" if hand else "print",
                )
        flow.gap(h)
    flow.gap(t.size)


def q_header(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    org = ctx.value("organization", c.company)
    title = ctx.value(
        "title",
        lambda: f"{c.pick('question_topic').title()} {c.pick('survey_kind')}",
    )
    text.line(ctx, flow, org, t.small_bold, arg or "center")
    text.line(ctx, flow, title, t.h1, arg or "center")
    text.line(
        ctx,
        flow,
        ctx.rng.choice(
            (
                "Please answer every question.",
                "Circle one answer for each item.",
                "All answers are confidential.",
            )
        ),
        t.italic,
        arg or "center",
    )
    flow.gap(t.size)


def rating_grid(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, cv, c = ctx.theme, ctx.canvas, ctx.content
    scale = ctx.rng.choice((5, 7, 4))
    label_w = flow.width * 0.55
    cell = (flow.width - label_w) / scale
    for k in range(scale):
        cv.write(flow.x0 + label_w + k * cell + cell / 3, flow.y, str(k + 1), t.small_bold, t.ink)
    flow.gap(line_height(t.small, 1.8))
    for q in range(ctx.rng.randint(5, 14)):
        if flow.room < t.size * 2:
            return
        cv.write(
            flow.x0, flow.y, f"{q + 1}. {c.pick('question_topic').capitalize()}", t.small, t.ink
        )
        for k in range(scale):
            x = flow.x0 + label_w + k * cell + cell / 3
            cv.draw.ellipse(
                (x, flow.y + 1, x + t.size * 0.8, flow.y + 1 + t.size * 0.8), outline=t.ink
            )
        flow.gap(line_height(t.small, 1.9))


def open_question(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    q = f"{ctx.content.pick('question')} {ctx.content.pick('question_topic')}?"
    flow.y = ctx.canvas.paragraph(flow.x0, flow.y, flow.width, q, t.bold, max_y=flow.y1, fill=t.ink)
    for _ in range(ctx.rng.randint(2, 4)):
        flow.gap(t.size * 1.8)
        ctx.canvas.rule(flow.x0, flow.y, flow.x1, 1, 120)
    flow.gap(t.size)


def slide_title(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    title = ctx.value(
        "title", lambda: f"{ctx.content.pick('slide_word')}: {ctx.content.title('business')}"
    )
    text.line(ctx, flow, title, t.scaled("bold", 1.9), arg or "left", leading=1.2)
    graphic.rule(ctx, flow, "3")
