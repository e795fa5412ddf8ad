"""Graphic blocks: logos, tables, charts, photo-like areas, form fields, tick boxes, barcodes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from models.data.canvas import fit_words, line_height
from models.data.layout import Ctx, Flow


def draw_logo(ctx: Ctx, x: int, y: int, size: int) -> None:
    d, ink, r = ctx.canvas.draw, ctx.theme.ink, ctx.rng
    shape = r.randrange(5)
    box = (x, y, x + size, y + size)
    if shape == 0:
        d.ellipse(box, outline=ink, width=max(2, size // 12))
        d.ellipse((x + size // 4, y + size // 4, x + 3 * size // 4, y + 3 * size // 4), fill=ink)
    elif shape == 1:
        d.polygon([(x + size // 2, y), (x + size, y + size), (x, y + size)], fill=ink)
    elif shape == 2:
        d.rectangle(box, fill=ink)
        d.rectangle((x + size // 5, y + size // 5, x + 4 * size // 5, y + 4 * size // 5), fill=255)
    elif shape == 3:
        for i in range(4):
            d.line(
                [(x, y + i * size // 4 + 2), (x + size, y + i * size // 4 + 2)],
                fill=ink,
                width=max(2, size // 10),
            )
    else:
        d.regular_polygon((x + size / 2, y + size / 2, size / 2), r.choice((5, 6, 8)), fill=ink)


def logo(ctx: Ctx, flow: Flow, arg: str) -> None:
    size = int(ctx.theme.size * (float(arg) if arg else ctx.rng.uniform(2.5, 5)))
    if flow.room > size:
        draw_logo(
            ctx,
            ctx.rng.choice((flow.x0, flow.x1 - size, (flow.x0 + flow.x1 - size) // 2)),
            flow.y,
            size,
        )
        flow.gap(size + ctx.theme.size)


def rule(ctx: Ctx, flow: Flow, arg: str) -> None:
    ctx.canvas.rule(flow.x0, flow.y, flow.x1, int(arg or ctx.rng.choice((1, 2, 3))), ctx.theme.ink)
    flow.gap(ctx.theme.size * 0.8)


Row = list[str]


def _table_rows(ctx: Ctx, kind: str) -> tuple[Row, list[Row], Row | None, str]:
    """Header, body rows, totals row and the total as printed (the page's `total` field)."""
    c, r = ctx.content, ctx.rng
    n = r.randint(4, 12)
    if kind == "invoice":
        rows, total = [], 0.0
        for _ in range(n):
            q, p = r.randint(1, 40), c.amount(2, 900)
            total += round(q * p, 2)
            rows.append([c.pick("invoice_item"), str(q), f"{p:,.2f}", f"{q * p:,.2f}"])
        printed = c.money(total)
        return (
            ["Description", "Qty", "Unit Price", "Amount"],
            rows,
            ["TOTAL", "", "", printed],
            printed,
        )
    if kind == "budget":
        y = c.year()
        cols = r.choice(
            (
                ["Budget", "Actual", "Variance"],
                [str(y - 2), str(y - 1), str(y)],
                ["Q1", "Q2", "Q3", "Q4"],
            )
        )
        rows, sums = [], [0.0] * len(cols)
        for _ in range(n):
            vals = [round(c.amount(500, 900000)) for _ in cols]
            sums = [a + b for a, b in zip(sums, vals, strict=True)]
            rows.append([c.pick("budget_item"), *[f"{v:,.0f}" for v in vals]])
        totals = [f"{v:,.0f}" for v in sums]
        return ["Line item", *cols], rows, ["Total", *totals], totals[-1]
    if kind == "spec":
        rows = [
            [
                c.pick("spec_param"),
                f"{r.uniform(0.1, 120):.1f}",
                c.pick("spec_unit"),
                f"± {r.uniform(0.1, 5):.1f}",
                c.pick("spec_method"),
            ]
            for _ in range(n)
        ]
        return ["Parameter", "Target", "Unit", "Tolerance", "Method"], rows, None, ""
    rows = [[c.pick("sci_noun"), *[f"{r.uniform(0, 100):.2f}" for _ in range(3)]] for _ in range(n)]
    return ["Sample", "Mean", "SD", "N"], rows, None, ""


def table(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Grid, ruled or borderless table with a header and an optional totals row."""
    t, cv = ctx.theme, ctx.canvas
    head, rows, total, printed_total = _table_rows(ctx, arg or "generic")
    font = t.small if len(head) > 4 or ctx.chance(0.4) else t.body
    bold = t.small_bold
    step = line_height(font, 1.45)
    natural = [
        max(bold.getlength(row[j]) for row in [head, *rows, *([total] if total else [])]) + 12
        for j in range(len(head))
    ]
    numeric = sum(natural[1:])
    first = max(flow.width - numeric, flow.width * 0.3)
    scale = min(1.0, (flow.width - first) / numeric)
    widths = [first] + [w * scale for w in natural[1:]]
    fits = int(flow.room // step) - 2 - (1 if total else 0)
    if fits < 1:
        return
    all_rows = [head, *rows[:fits], *([total] if total else [])]
    style = ctx.rng.choice(("grid", "rules", "plain"))
    top = flow.y
    for i, row in enumerate(all_rows):
        is_total = total is not None and i == len(all_rows) - 1
        f = bold if i == 0 or is_total else font
        x = float(flow.x0)
        for j, cell in enumerate(row):
            align = "left" if j == 0 else "right"
            text = fit_words(cell, f, widths[j] - 8)
            cv.write_aligned(x + 4, x + widths[j] - 4, flow.y + step * 0.15, text, f, align, t.ink)
            x += widths[j]
        if is_total:
            ctx.value("total", printed_total)
        if style == "grid" or (style == "rules" and i in (0, len(all_rows) - 2)):
            cv.rule(flow.x0, flow.y + step, flow.x1, 1, t.ink)
        flow.y += step
    if style == "grid":
        cv.rect((flow.x0, top, flow.x1, flow.y), outline=t.ink)
        x = float(flow.x0)
        for w in widths[:-1]:
            x += w
            cv.draw.line([(x, top), (x, flow.y)], fill=t.ink)
    flow.gap(t.size)


def chart(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Bar, line or pie chart with tick labels (which are real words on the page)."""
    t, cv, r = ctx.theme, ctx.canvas, ctx.rng
    h = min(flow.room - t.size * 2, int(flow.width * r.uniform(0.35, 0.65)))
    if h < t.size * 6:
        return
    kind = arg or r.choice(("bar", "line", "pie"))
    x0, y0, x1, y1 = flow.x0 + t.size * 3, flow.y, flow.x1 - t.size, flow.y + h
    n = r.randint(3, 8)
    vals = [r.uniform(0.1, 1.0) for _ in range(n)]
    if kind == "pie":
        cx, cy, rad = (x0 + x1) / 2, (y0 + y1) / 2, h / 2 - 2
        start = 0.0
        for i, v in enumerate(vals):
            end = start + 360 * v / sum(vals)
            cv.draw.pieslice(
                (cx - rad, cy - rad, cx + rad, cy + rad),
                start,
                end,
                fill=60 + (i * 150 // n),
                outline=0,
            )
            start = end
    else:
        cv.draw.line([(x0, y0), (x0, y1), (x1, y1)], fill=t.ink, width=2)
        step = (x1 - x0) / n
        pts = [(x0 + step * (i + 0.5), y1 - v * (h - t.size)) for i, v in enumerate(vals)]
        for i, (px, py) in enumerate(pts):
            if kind == "bar":
                cv.draw.rectangle(
                    (px - step * 0.3, py, px + step * 0.3, y1), fill=r.choice((40, 90, 140))
                )
            label = str(ctx.content.year() - n + i + 1) if r.random() < 0.5 else f"Q{i % 4 + 1}"
            if i % max(1, n // 5) == 0:
                cv.write(px - t.small.getlength(label) / 2, y1 + 3, label, t.small, t.ink)
        if kind == "line":
            cv.draw.line(pts, fill=t.ink, width=2)
        for k in range(3):
            tick = f"{(k + 1) * r.choice((10, 25, 50, 100))}"
            cv.write(flow.x0, y1 - (k + 1) * (h - t.size) / 3, tick, t.small, t.ink)
    flow.y = y1 + t.size * 2
    flow.gap(t.size)


def photo(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Photo-like area: smooth random shading with blobs, as halftoned pictures look in scans."""
    r = ctx.rng
    w = int(flow.width * (float(arg) if arg else r.uniform(0.4, 1.0)))
    h = min(flow.room - 4, int(w * r.uniform(0.5, 0.9)))
    if h < 40 or w < 40:
        return
    g = np.random.default_rng(r.getrandbits(32))
    low = g.uniform(0, 255, size=(r.randint(3, 7), r.randint(3, 7))).astype(np.uint8)
    img = Image.fromarray(low).resize((w, h), Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.int16) + g.integers(-25, 25, size=(h, w), dtype=np.int16)
    x = r.choice((flow.x0, flow.x1 - w, (flow.x0 + flow.x1 - w) // 2))
    ctx.canvas.paste(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), x, flow.y)
    flow.gap(h + ctx.theme.size)


def figure(ctx: Ctx, flow: Flow, arg: str) -> None:
    (chart if ctx.chance(0.7) else photo)(ctx, flow, "")
    t = ctx.theme
    number = f"{ctx.rng.choice(('Figure', 'Fig.', 'Exhibit'))} {ctx.rng.randint(1, 9)}."
    cap = f"{number} {ctx.content.sentence(ctx.genre)}"
    flow.y = ctx.canvas.paragraph(
        flow.x0, flow.y, flow.width, cap, t.small, max_y=flow.y1, fill=t.ink
    )
    flow.gap(t.size)


def fields(ctx: Ctx, flow: Flow, arg: str) -> None:
    """Form fields: label then an underline or box; filled typed, by hand, or left blank."""
    t, cv, r, c = ctx.theme, ctx.canvas, ctx.rng, ctx.content
    n = int(arg or r.randint(4, 10))
    fill_mode = r.choice(("typed", "hand", "blank", "mixed"))
    cols = r.choice((1, 1, 2, 3))
    for _ in range(0, n, cols):
        if flow.room < t.size * 3:
            return
        for sub in flow.split(cols, t.size, t.size * 3):
            label = r.choice(
                (
                    "Name",
                    "Address",
                    "City",
                    "State",
                    "Zip",
                    "Telephone",
                    "Date",
                    "Signature",
                    "Title",
                    "Department",
                    "Account No.",
                    "Amount",
                    "Social Security No.",
                    "Employer",
                    "Date of Birth",
                    "Brand",
                )
            )
            lw = cv.write(sub.x0, sub.y + t.size * 0.6, label + ":", t.small_bold, t.ink)
            cv.rule(lw + 6, sub.y + t.size * 1.9, sub.x1, 1, t.ink)
            mode = r.choice(("typed", "hand", "blank")) if fill_mode == "mixed" else fill_mode
            value = (
                c.name()
                if label in ("Name", "Signature")
                else c.date()
                if "Date" in label
                else c.words(2)
            )
            if mode == "typed":
                cv.write(lw + 12, sub.y + t.size * 0.6, value, t.body, t.ink)
            elif mode == "hand":
                cv.write(lw + 12, sub.y, value, t.hand, 30, kind="hand")
        flow.gap(t.size * 3)


def tick_boxes(ctx: Ctx, flow: Flow, arg: str) -> None:
    t, cv, r, c = ctx.theme, ctx.canvas, ctx.rng, ctx.content
    options = r.choice(
        (
            ["Yes", "No"],
            ["Never", "Sometimes", "Often", "Always"],
            ["1", "2", "3", "4", "5"],
            ["Agree", "Neutral", "Disagree"],
        )
    )
    for q in range(int(arg or r.randint(3, 8))):
        text = f"{q + 1}. {c.pick('question')} {c.pick('question_topic')}?"
        if flow.room < t.size * 4:
            return
        flow.y = cv.paragraph(flow.x0, flow.y, flow.width, text, t.body, max_y=flow.y1, fill=t.ink)
        x = flow.x0 + t.size * 2
        picked = r.randrange(len(options) + 1)
        for i, opt in enumerate(options):
            b = t.size
            cv.rect((x, flow.y + 2, x + b, flow.y + 2 + b), outline=t.ink)
            if i == picked:
                cv.draw.line(
                    [(x + 2, flow.y + b // 2), (x + b // 2, flow.y + b), (x + b + 3, flow.y - 2)],
                    fill=20,
                    width=2,
                )
            x = cv.write(x + b + 6, flow.y + 2, opt, t.small, t.ink) + t.size * 2
        flow.gap(t.size * 2.2)


def barcode(ctx: Ctx, flow: Flow, arg: str) -> None:
    r, x = ctx.rng, flow.x0 if arg != "right" else flow.x1 - 180
    h = ctx.theme.size * 3
    for _ in range(40):
        w = r.choice((1, 2, 3))
        ctx.canvas.draw.rectangle((x, flow.y, x + w - 1, flow.y + h), fill=0)
        x += w + r.choice((1, 2, 3))
    flow.gap(h + 6)
    if ctx.chance(0.5):
        ctx.canvas.write(flow.x0, flow.y, ctx.content.code("##########"), ctx.theme.small, 0)
        flow.gap(ctx.theme.size * 1.5)
