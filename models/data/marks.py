"""Things added to a page after it was printed: rubber stamps and handwritten annotations."""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageDraw

from models.data.canvas import Word, metrics
from models.data.layout import Ctx


def _rotate_point(x: float, y: float, cx: float, cy: float, deg: float) -> tuple[float, float]:
    """Where PIL's Image.rotate(deg) (counter-clockwise, y down) sends (x, y)."""
    a = math.radians(deg)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)


def rotated_box(
    box: tuple[float, float, float, float], cx: float, cy: float, deg: float
) -> tuple[float, float, float, float]:
    """Axis-aligned box around a rotated box."""
    pts = [_rotate_point(x, y, cx, cy, deg) for x in (box[0], box[2]) for y in (box[1], box[3])]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def stamp(ctx: Ctx) -> None:
    """A rubber stamp ("RECEIVED" and a date, "CONFIDENTIAL", ...) pressed at an angle."""
    r, cv, t = ctx.rng, ctx.canvas, ctx.theme
    lines = [
        r.choice(
            (
                "RECEIVED",
                "CONFIDENTIAL",
                "COPY",
                "APPROVED",
                "FILE COPY",
                "PAID",
                "URGENT",
                "DRAFT",
                "REVIEWED",
            )
        )
    ]
    if r.random() < 0.6:
        lines.append(ctx.content.date().upper())
    font = t.scaled("bold", r.uniform(1.0, 1.6))
    size = int(font.size)
    pad = size // 2
    w = int(max(font.getlength(s) for s in lines)) + 2 * pad
    h = int(len(lines) * size * 1.3) + 2 * pad
    x = r.randint(0, max(0, cv.width - w - 1))
    y = r.randint(0, max(0, cv.height - h - 1))
    layer = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(layer)
    d.rectangle((1, 1, w - 2, h - 2), outline=70, width=max(2, size // 8))
    boxes = []
    for i, s in enumerate(lines):
        lx = (w - font.getlength(s)) / 2
        ly = pad + i * font.size * 1.3
        d.text((lx, ly), s, font=font, fill=70)
        cx = lx
        for token in s.split():
            left, top, right, bottom, adv = metrics(font, token)
            boxes.append((token, (cx + left, ly + top, cx + right, ly + bottom), i))
            cx += adv + metrics(font, " ")[4]
    deg = r.uniform(-15, 15)
    layer = layer.rotate(deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    region = cv.image.crop((x, y, x + w, y + h))
    cv.image.paste(ImageChops.darker(region, layer), (x, y))  # ink over what is printed
    line_ids = [cv.next_line() for _ in lines]
    for token, b, i in boxes:
        x0, y0, x1, y1 = rotated_box(b, w / 2, h / 2, deg)
        cv.words.append(
            Word(
                token,
                (int(x + x0), int(y + y0), int(x + x1) + 1, int(y + y1) + 1),
                line_ids[i],
                "mark",
            )
        )


def annotate(ctx: Ctx) -> None:
    """A reader's handwritten note in a margin, sometimes with a circle or underline stroke."""
    r, cv, t = ctx.rng, ctx.canvas, ctx.theme
    note = r.choice(
        (
            "OK",
            "File",
            "see me",
            "Approved",
            "cc: legal",
            "?",
            "FYI",
            "urgent!",
            "done",
            "call back",
            "noted",
            "no",
            "yes",
            "draft",
        )
    )
    if r.random() < 0.3:
        note = "".join(n[0] for n in ctx.content.name().split())  # initials
    font = t.hand
    x = r.choice((r.randint(5, 40), r.randint(max(5, cv.width - 160), max(6, cv.width - 60))))
    y = r.randint(20, cv.height - 60)
    if cv.write(x, y, note, font, r.choice((0, 30, 60)), "hand") and r.random() < 0.4:
        w = font.getlength(note)
        cv.draw.ellipse((x - 8, y - 6, x + w + 8, y + font.size * 1.3), outline=40, width=2)
