"""Blocks of the press, advertising and paper handling: newspaper mastheads and headlines,
clippings, advertisements, handwriting, file-folder tabs and slide handouts."""

from __future__ import annotations

from models.data import blocks_graphic as graphic
from models.data import blocks_text as text
from models.data.canvas import fit_words, line_height
from models.data.content import headline
from models.data.layout import Ctx, Flow


def masthead(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c, r = ctx.theme, ctx.content, ctx.rng
    paper = ctx.value(
        "publication",
        lambda: f"The {c.city()} {c.pick('paper_name')}",
    )
    text.line(ctx, flow, paper, ctx.theme.scaled("title", 1.0), "center")
    ctx.canvas.rule(flow.x0, flow.y, flow.x1, 2, t.ink)
    flow.gap(4)
    text.line(
        ctx,
        flow,
        f"{ctx.value('date', c.date)}   {r.choice(('Section B', 'Page A4', 'Business', 'Metro'))}",
        t.small,
        "center",
    )
    graphic.rule(ctx, flow, "1")


def headline_block(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    h = ctx.value("headline", lambda: headline(ctx.content.title("news")))
    f = t.scaled("bold", ctx.rng.uniform(1.6, 2.6))
    for line in ctx.canvas.wrap(h, f, flow.width)[:3]:
        text.line(ctx, flow, line, f, arg or "left", leading=1.15)
    if ctx.chance(0.7):
        text.line(ctx, flow, f"By {ctx.value('byline', ctx.content.name)}", t.italic)
    flow.gap(t.size * 0.6)


def hand_lines(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Handwritten prose: uneven baselines, slightly rotated strokes are left to degrade.py."""
    t = ctx.theme
    f = t.hand
    for line in ctx.canvas.wrap(
        ctx.content.paragraph(ctx.genre, int(arg or 4)), f, flow.width * 0.95
    ):
        if flow.room < line_height(f, 1.4):
            return
        x = flow.x0 + ctx.rng.randint(0, t.size)
        ctx.canvas.write(
            x, flow.y + ctx.rng.randint(-2, 2), line, f, ctx.rng.choice((0, 20, 40, 60)), "hand"
        )
        flow.y += line_height(f, ctx.rng.uniform(1.3, 1.8))


def folder_tab(ctx: Ctx, flow: Flow, arg: str) -> None:
    """A file folder scanned flat: a tab with a typed or handwritten label, wide empty areas."""
    t, cv, r, c = ctx.theme, ctx.canvas, ctx.rng, ctx.content
    w = int(flow.width * r.uniform(0.3, 0.5))
    x = r.choice((flow.x0, (flow.x0 + flow.x1 - w) // 2, flow.x1 - w))
    y = flow.y + (0 if arg != "low" else int(flow.room * 0.4))
    cv.draw.rounded_rectangle(
        (x, y, x + w, y + t.size * 4),
        radius=t.size,
        outline=0,
        width=2,
        fill=r.choice((255, 235, 215)),
    )
    cv.rule(flow.x0 - 20, y + t.size * 4, flow.x1 + 20, 2, 0)
    hand = r.random() < 0.4
    f = t.hand if hand else t.bold
    label = r.choice((c.company(), c.name(), c.title("business")))
    label = ctx.value("label", fit_words(label, f, w - 2 * t.size))
    cv.write(x + t.size, y + t.size, label, f, 20 if hand else t.ink, "hand" if hand else "print")
    if r.random() < 0.6:
        cv.write(
            x + t.size,
            y + t.size * 2.6,
            ctx.value("file_number", lambda: c.code("####-?")),
            t.small,
            t.ink,
        )
    flow.y = y + t.size * 6


def ad_headline(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, c = ctx.theme, ctx.content
    brand = ctx.value("brand", c.company)
    product = ctx.value("product", c.product)
    f = t.scaled("title", ctx.rng.uniform(1.2, 1.9))
    words = f"{c.pick('ad_word')} {product}" if ctx.chance(0.5) else product
    for line in ctx.canvas.wrap(words, f, flow.width)[:2]:
        text.line(ctx, flow, line, f, arg or "center", leading=1.1)
    text.line(ctx, flow, brand, t.h1, arg or "center")
    flow.gap(t.size)


def price(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    p = ctx.value("price", lambda: ctx.content.money(ctx.content.amount(1, 60)))
    f = t.scaled("title", 1.1)
    cx = ctx.rng.randint(flow.x0, max(flow.x0, flow.x1 - int(f.getlength(p)) - 20))
    ctx.canvas.draw.ellipse(
        (cx - 10, flow.y - 10, cx + f.getlength(p) + 10, flow.y + f.size * 1.4), outline=0, width=3
    )
    ctx.canvas.write(cx, flow.y, p, f, 0)
    flow.gap(f.size * 1.8)
    if ctx.chance(0.6):
        text.line(ctx, flow, f"Call {ctx.value('phone', ctx.content.phone)}", t.bold, "center")


def coupon(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, cv = ctx.theme, ctx.canvas
    h = t.size * 6
    if flow.room < h:
        return
    for x in range(flow.x0, flow.x1, 12):  # dashed cut line
        cv.draw.line([(x, flow.y), (x + 6, flow.y)], fill=0, width=2)
        cv.draw.line([(x, flow.y + h), (x + 6, flow.y + h)], fill=0, width=2)
    inner = Flow(flow.x0 + t.size, flow.x1 - t.size, flow.y + t.size, flow.y + h)
    text.line(
        ctx,
        inner,
        f"SAVE {ctx.content.money(ctx.content.amount(0.5, 5))} on "
        f"{ctx.value('product', ctx.content.product)}",
        t.h1,
        "center",
    )
    text.line(ctx, inner, "Manufacturer's coupon. Limit one per purchase.", t.small, "center")
    flow.gap(h + t.size)


def warning_box(ctx: Ctx, flow: Flow, arg: str) -> None:
    """The boxed health warning that tobacco advertisements carry."""
    t = ctx.theme
    w = f"SURGEON GENERAL'S WARNING: {ctx.content.pick('health_warning')}"
    top = flow.y = max(flow.y, flow.y1 - t.size * 6)
    flow.y = ctx.canvas.paragraph(
        flow.x0 + 8,
        flow.y + 6,
        flow.width - 16,
        w,
        t.small_bold,
        max_y=flow.y1 + t.size * 3,
        fill=0,
    )
    ctx.canvas.rect((flow.x0, top, flow.x1, flow.y + 4), outline=0, width=2)
    flow.gap(t.size)


def source_line(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Where a clipped article came from, typed or handwritten above the clipping."""
    c = ctx.content
    pub = ctx.value(
        "publication", lambda: f"{c.city()} {ctx.rng.choice(('Times', 'Herald', 'Post', 'News'))}"
    )
    hand = ctx.chance(0.4)
    text.line(
        ctx,
        flow,
        f"{pub}, {ctx.value('date', c.date)}",
        ctx.theme.hand if hand else ctx.theme.small,
        "left",
        "hand" if hand else "print",
    )
    flow.gap(ctx.theme.size)


def file_index(ctx: Ctx, flow: Flow, arg: str) -> None:
    for _ in range(ctx.rng.randint(3, 10)):
        text.line(
            ctx, flow, f"{ctx.content.date()}  {ctx.content.title('business')}", ctx.theme.small
        )


def presenter(ctx: Ctx, flow: Flow, arg: str) -> None:
    t = ctx.theme
    text.line(ctx, flow, ctx.value("presenter", ctx.content.name), t.h2, arg or "center")
    text.line(
        ctx,
        flow,
        f"{ctx.content.company()}  {ctx.value('date', ctx.content.date)}",
        t.body,
        arg or "center",
    )


def handout(ctx: Ctx, flow: Flow, arg: str) -> None:
    """A printed handout: slide thumbnails with titles and ruled lines for notes beside them."""
    t, cv = ctx.theme, ctx.canvas
    n = int(arg or 3)
    h = (flow.room - t.size * 2) // n
    for i in range(n):
        w = int(flow.width * 0.5)
        top = flow.y
        cv.rect((flow.x0, top, flow.x0 + w, top + h - t.size), outline=0, width=2)
        inner = Flow(flow.x0 + 8, flow.x0 + w - 8, top + 8, top + h - t.size)
        if i == 0:
            ctx.value(
                "title",
                lambda: f"{ctx.content.pick('slide_word')}: {ctx.content.title('business')}",
            )
            text.line(ctx, inner, ctx.fields["title"], t.small_bold)
        else:
            text.line(ctx, inner, ctx.content.pick("slide_word"), t.small_bold)
        for _ in range(3):
            text.line(ctx, inner, f"- {ctx.content.words(4)}", t.small)
        for k in range(4):
            yy = top + (k + 1) * h // 5
            cv.rule(flow.x0 + w + t.size * 2, yy, flow.x1, 1, 140)
        flow.y = top + h
