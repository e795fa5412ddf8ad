"""Press and promotion: news pages and newsletters (masthead, headlines, columns, photos) and
advertisements/flyers (big headline, picture, offer, call to action)."""

from __future__ import annotations

from models.data.engines.html_art import photo
from models.data.engines.html_style import Ctx, esc, logo
from models.data.engines.vocabulary import HAND, SANS

PAPERS = (
    "The Daily Ledger",
    "Metro Herald",
    "County Courier",
    "The Evening Post",
    "Tech Weekly",
    "Harbor Times",
    "The Valley Record",
    "Community News",
)
OFFERS = (
    "Grand Opening",
    "Summer Sale",
    "New in Store",
    "Limited Offer",
    "Join Us Today",
    "Now Hiring",
    "Open House",
    "Free Workshop",
    "Spring Clearance",
    "Book Now",
)


def _story(ctx: Ctx, words: int, picture: bool) -> str:
    p = ctx.passage(words)
    pic = ""
    if picture:
        pic = (
            f"<figure>{photo(ctx)}<figcaption>{esc(ctx.sentences(1, 18)[0])}</figcaption></figure>"
        )
    return (
        f"<article><h2>{esc(p.title)}</h2><p class='by'>By {esc(ctx.fake.name())}</p>{pic}"
        + "".join(f"<p>{esc(x)}</p>" for x in p.paragraphs)
        + "</article>"
    )


def news_page(ctx: Ctx) -> tuple[str, str]:
    rng, t = ctx.rng, ctx.theme
    lead = ctx.passage(rng.randint(250, 400))
    cols = rng.choice((2, 3, 3, 4))
    html = (
        f"<header><div class='mast'>{rng.choice(PAPERS)}</div><div class='dl'>"
        f"<span>{ctx.date()}</span><span>Vol. {rng.randint(5, 140)} No. {rng.randint(1, 300)}"
        f"</span><span>{esc(ctx.fake.city())} Edition</span></div></header>"
        f"<h1>{esc(lead.title)}</h1><p class='by'>By {esc(ctx.fake.name())}, staff writer</p>"
        f"<div class='lead'>{photo(ctx, 400, 200)}"
        + "".join(f"<p>{esc(x)}</p>" for x in lead.paragraphs)
        + "</div><div class='more'>"
        + "".join(_story(ctx, rng.randint(80, 160), rng.random() < 0.3) for _ in range(3))
        + "</div>"
    )
    css = (
        f".mast {{ font: bold {rng.choice((30, 36, 42))}pt '{t.heading}'; text-align: center; "
        f"}} .dl {{ display: flex; justify-content: space-between; border-top: 1.5pt solid "
        f"#111; border-bottom: 0.5pt solid #111; font-size: 8pt; padding: 1mm 0; }} h1 {{ "
        f"font-size: {rng.choice((22, 26, 30))}pt; }} .by {{ font-size: 8pt; font-style: "
        f"italic; }} .lead {{ columns: {cols}; column-gap: 5mm; text-align: justify; }}"
        f" .photo {{ width: 100%; }} .more {{ columns: 3; column-gap: 5mm; border-top: 1pt "
        f"solid #111; margin-top: 3mm; }} article {{ font-size: 0.9em; }} h2 {{ font-size: "
        f"13pt; }} figcaption {{ font-size: 7.5pt; }} figure {{ margin: 0 0 2mm; }}"
    )
    return html, css


def newsletter(ctx: Ctx) -> tuple[str, str]:
    rng, t = ctx.rng, ctx.theme
    org = ctx.company()
    stories = "".join(_story(ctx, rng.randint(90, 170), rng.random() < 0.4) for _ in range(3))
    side = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(3, 14))
    html = (
        f"<div class='nb'>{logo(ctx, 46)}<div><div class='nt'>{esc(org)} "
        f"{rng.choice(('Newsletter', 'News', 'Bulletin', 'Update'))}</div><div>Issue "
        f"{rng.randint(1, 80)} · {ctx.date()}</div></div></div>"
        f"<aside><b>In this issue</b><ul>{side}</ul></aside><main>{stories}</main>"
    )
    css = (
        f".nb {{ display: flex; gap: 4mm; align-items: center; background: {t.accent}; color: "
        f"white; padding: 4mm; margin-bottom: 4mm; }} .nt {{ font: bold 22pt '{t.heading}'; }}"
        f" main {{ columns: {rng.choice((1, 2))}; column-gap: 5mm; }} aside {{ "
        f"margin-bottom: 4mm; background: {t.soft}; padding: 2mm 3mm; "
        f"font-size: 9pt; }} h2 {{ font-size: 14pt; color: {t.accent}; }} .by {{ font-size: "
        f"8pt; }} .photo {{ width: 100%; }} figcaption {{ font-size: 7.5pt; }} ul {{ "
        f"padding-left: 4mm; }} figure {{ margin: 0 0 2mm; }}"
    )
    return html, css


def flyer(ctx: Ctx) -> tuple[str, str]:
    rng, t = ctx.rng, ctx.theme
    firm = ctx.company()
    face = rng.choice(SANS + HAND[3:5])
    points = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(rng.randint(2, 4), 16))
    price = f"{rng.choice(('$', '€', '£'))}{rng.randint(9, 499)}"
    html = (
        f"<div class='hero'><div class='kick'>{rng.choice(OFFERS)}</div><h1>"
        f"{esc(ctx.fake.catch_phrase())}</h1></div>{photo(ctx, 400, 220)}"
        f"<div class='deal'><div class='price'>{rng.choice(('Only', 'From', 'Save'))} {price}"
        f"</div><ul>{points}</ul></div><div class='cta'>{rng.choice(('Call', 'Visit', 'Order'))}"
        f" today: {esc(ctx.fake.phone_number())} · {esc(ctx.fake.url())}</div>"
        f"<div class='brand'>{logo(ctx, 50)}<b>{esc(firm)}</b><span>"
        f"{esc(ctx.fake.address())}</span></div>"
    )
    css = (
        f".hero {{ background: {t.accent}; color: white; padding: 6mm; text-align: center; }}"
        f" .kick {{ font: bold 16pt '{face}'; text-transform: uppercase; letter-spacing: 3pt;"
        f" }} h1 {{ font: bold {rng.choice((30, 36, 42))}pt '{face}'; margin: 2mm 0; }}"
        f" .photo {{ width: 100%; margin: 4mm 0; }} .price {{ font: bold 34pt '{face}'; "
        f"color: {t.accent}; }} .deal {{ display: flex; gap: 8mm; align-items: center; }} "
        f".deal ul {{ font-size: 12pt; }} .cta {{ border: 2pt dashed {t.accent}; padding: 3mm;"
        f" text-align: center; font-size: 13pt; margin: 5mm 0; }} .brand {{ display: flex; "
        f"gap: 4mm; align-items: center; font-size: 9pt; }} .brand b {{ font-size: 14pt; }}"
    )
    return html, css


NEWS = (news_page, newsletter)
ADVERTISEMENT = (flyer,)
