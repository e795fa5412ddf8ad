"""Presentation slides printed to PDF: landscape 16:9 or 4:3 pages with a theme (title band,
sidebar or plain), a large title, bullets, and a picture or chart block."""

from __future__ import annotations

from models.data.engines.html_art import chart, photo
from models.data.engines.html_style import Ctx, esc, logo
from models.data.engines.vocabulary import SANS


def slide(ctx: Ctx) -> tuple[str, str]:
    rng, t = ctx.rng, ctx.theme
    ctx.landscape = rng.choice(("16:9", "16:9", "4:3"))
    face = rng.choice(SANS)
    kind = rng.choice(("bullets", "bullets+pic", "title", "chart"))
    p = ctx.passage(40)
    bullets = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(rng.randint(3, 5), 22))
    if kind == "title":
        main = (
            f"<div class='cover'><h1>{esc(p.title)}</h1><p>{esc(ctx.fake.name())} · "
            f"{esc(ctx.company())}</p><p>{ctx.date()}</p></div>"
        )
    else:
        art = photo(ctx, 320, 220) if kind == "bullets+pic" else chart(ctx, 320, 200)
        right = f"<div class='art'>{art}</div>" if kind != "bullets" else ""
        main = f"<h1>{esc(p.title)}</h1><div class='row'><ul>{bullets}</ul>{right}</div>"
    theme = rng.choice(("band", "side", "plain", "dark"))
    dark = theme == "dark"
    fg, bg = ("white", f"hsl({t.hue}, 40%, 18%)") if dark else ("#1b1b1b", "white")
    footer = (
        f"<div class='foot'>{logo(ctx, 26)}<span>{esc(ctx.company())}</span>"
        f"<span class='num'>{rng.randint(2, 40)}</span></div>"
    )
    html = f"<div class='slide {theme}'>{main}{footer}</div>"
    css = (
        f"@page {{ margin: 0; }} html {{ font-family: '{face}'; }} .slide {{ height: 100vh; "
        f"box-sizing: border-box; padding: 8mm 14mm; position: relative; background: {bg}; "
        f"color: {fg}; }} h1 {{ font: bold {rng.choice((28, 32, 36))}pt '{face}'; margin: 0 0 "
        f"6mm; }} .band h1 {{ background: {t.accent}; color: white; margin: -8mm -14mm 8mm; "
        f"padding: 8mm 14mm; }} .side {{ border-left: 14mm solid {t.accent}; }} .plain h1 {{ "
        f"color: {t.accent}; border-bottom: 1.5pt solid {t.mid}; }} .row {{ display: flex; "
        f"gap: 10mm; }} ul {{ flex: 1; font-size: {rng.choice((20, 22, 24))}pt; line-height: "
        f"1.3; }} li {{ margin-bottom: 3mm; }} .art {{ width: 42%; }} .art svg {{ width: 100%; "
        f"}} .cover {{ margin-top: 30mm; }} .cover h1 {{ font-size: 40pt; background: none; "
        f"color: inherit; }} .cover p {{ font-size: 16pt; }} .foot {{ position: absolute; "
        f"bottom: 5mm; left: 14mm; right: 14mm; display: flex; gap: 3mm; align-items: center; "
        f"font-size: 10pt; opacity: 0.8; }} .num {{ margin-left: auto; }}"
    )
    return html, css


PRESENTATION = (slide,)
