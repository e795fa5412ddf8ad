"""Pictures without words, drawn as inline SVG: charts for reports and slides, "photographs"
(landscapes and abstract shapes) for news, flyers and slides. No SVG text, so every word on a page
is HTML text and lands in the PDF text layer."""

from __future__ import annotations

from models.data.engines.html_style import Ctx

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" class="{cls}">{body}</svg>'


def bar_chart(ctx: Ctx, w: int = 300, h: int = 180, cls: str = "chart") -> str:
    rng, hue = ctx.rng, ctx.theme.hue
    n, series = rng.randint(4, 9), rng.randint(1, 3)
    slot = (w - 30) / n
    body = [
        f'<line x1="25" y1="{h - 15}" x2="{w}" y2="{h - 15}" stroke="#333"/>',
        f'<line x1="25" y1="5" x2="25" y2="{h - 15}" stroke="#333"/>',
    ]
    for y in range(25, h - 15, 30):
        body.append(f'<line x1="25" y1="{y}" x2="{w}" y2="{y}" stroke="#ddd"/>')
    for i in range(n):
        for s in range(series):
            v = rng.uniform(0.15, 0.95) * (h - 25)
            x = 30 + i * slot + s * slot * 0.8 / series
            fill = f"hsl({(hue + 50 * s) % 360}, 55%, {35 + 15 * s}%)"
            body.append(
                f'<rect x="{x:.1f}" y="{h - 15 - v:.1f}" width="{slot * 0.7 / series:.1f}"'
                f' height="{v:.1f}" fill="{fill}"/>'
            )
    return SVG.format(w=w, h=h, cls=cls, body="".join(body))


def line_chart(ctx: Ctx, w: int = 300, h: int = 180, cls: str = "chart") -> str:
    rng, hue = ctx.rng, ctx.theme.hue
    body = [f'<rect x="25" y="5" width="{w - 30}" height="{h - 20}" fill="none" stroke="#333"/>']
    for s in range(rng.randint(1, 3)):
        y, points = rng.uniform(40, h - 40), []
        for i in range(12):
            y = min(h - 20, max(10, y + rng.uniform(-25, 25)))
            points.append(f"{30 + i * (w - 40) / 11:.1f},{y:.1f}")
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke-width="2.5" '
            f'stroke="hsl({(hue + 70 * s) % 360}, 60%, {30 + 15 * s}%)"/>'
        )
    return SVG.format(w=w, h=h, cls=cls, body="".join(body))


def pie_chart(ctx: Ctx, w: int = 200, h: int = 200, cls: str = "chart") -> str:
    import math

    rng, hue = ctx.rng, ctx.theme.hue
    parts = [rng.uniform(1, 5) for _ in range(rng.randint(3, 6))]
    total, angle, body = sum(parts), -math.pi / 2, []
    cx, cy, r = w / 2, h / 2, min(w, h) / 2 - 5
    for i, part in enumerate(parts):
        end = angle + 2 * math.pi * part / total
        big = 1 if end - angle > math.pi else 0
        x0, y0 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x1, y1 = cx + r * math.cos(end), cy + r * math.sin(end)
        body.append(
            f'<path d="M{cx},{cy} L{x0:.1f},{y0:.1f} A{r},{r} 0 {big} 1 {x1:.1f},'
            f'{y1:.1f} Z" fill="hsl({(hue + 40 * i) % 360}, 50%, {30 + 9 * i}%)" '
            'stroke="white"/>'
        )
        angle = end
    return SVG.format(w=w, h=h, cls=cls, body="".join(body))


def chart(ctx: Ctx, w: int = 300, h: int = 180, cls: str = "chart") -> str:
    kind = ctx.rng.choice((bar_chart, bar_chart, line_chart, pie_chart))
    return kind(ctx, w, h, cls) if kind is not pie_chart else kind(ctx, h, h, cls)


def photo(ctx: Ctx, w: int = 320, h: int = 200, cls: str = "photo") -> str:
    """A stand-in photograph: sky gradient, hills, a sun or a few blocks (buildings, products)."""
    rng, hue = ctx.rng, rng_hue(ctx)
    gid = f"g{rng.randrange(10**6)}"
    body = [
        f'<defs><linearGradient id="{gid}" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue}, 50%, 80%)"/>'
        f'<stop offset="1" stop-color="hsl({hue}, 40%, 45%)"/></linearGradient></defs>'
        f'<rect width="{w}" height="{h}" fill="url(#{gid})"/>'
    ]
    if rng.random() < 0.5:
        body.append(
            f'<circle cx="{rng.randint(20, w - 20)}" cy="{rng.randint(20, h // 3)}" '
            f'r="{rng.randint(10, 25)}" fill="hsl(45, 90%, 85%)"/>'
        )
    for layer in range(rng.randint(2, 4)):
        base = h * (0.5 + 0.12 * layer)
        pts = (
            [f"0,{h}"]
            + [f"{x},{base - rng.uniform(0, h * 0.25):.0f}" for x in range(0, w + 40, 40)]
            + [f"{w},{h}"]
        )
        body.append(
            f'<polygon points="{" ".join(pts)}" '
            f'fill="hsl({(hue + 100) % 360}, 30%, {45 - 10 * layer}%)"/>'
        )
    if rng.random() < 0.4:
        for _ in range(rng.randint(3, 7)):
            bw, bh = rng.randint(15, 40), rng.randint(30, h // 2)
            body.append(
                f'<rect x="{rng.randint(0, w - bw)}" y="{h - bh}" width="{bw}" '
                f'height="{bh}" fill="hsl(0, 0%, {rng.randint(15, 40)}%)"/>'
            )
    return SVG.format(w=w, h=h, cls=cls, body="".join(body))


def rng_hue(ctx: Ctx) -> int:
    return ctx.rng.choice((200, 210, 30, 120, ctx.theme.hue))
