"""Technical documents: journal articles (one or two columns, abstract, figures, references),
scientific/technical reports (numbered sections, results table, chart) and product datasheets."""

from __future__ import annotations

from models.data import prose
from models.data.engines.html_art import chart, photo
from models.data.engines.html_style import Ctx, esc, logo

JOURNALS = (
    "Journal of Applied Computing",
    "Transactions on Software Systems",
    "International Review of Information Engineering",
    "Letters in Data Science",
    "Proceedings of the Workshop on Systems Research",
    "Annals of Computational Methods",
)
UNITS = (
    ("Supply voltage", "V", 1.8, 48),
    ("Operating temperature", "°C", -40, 85),
    ("Power consumption", "W", 0.5, 120),
    ("Weight", "g", 20, 2500),
    ("Frequency", "MHz", 8, 2400),
    ("Storage capacity", "GB", 4, 2048),
    ("Noise level", "dB(A)", 18, 60),
    ("Input current", "mA", 5, 900),
    ("Throughput", "Mbit/s", 10, 10000),
    ("Humidity (non-condensing)", "%", 5, 95),
    ("Accuracy", "%", 0.1, 2),
    ("Pressure range", "bar", 1, 400),
)


def _authors(ctx: Ctx) -> tuple[str, str]:
    n = ctx.rng.randint(1, 5)
    names = ", ".join(f"{ctx.fake.name()}<sup>{ctx.rng.randint(1, 2)}</sup>" for _ in range(n))
    dept = ctx.rng.choice(
        (
            "Computer Science",
            "Electrical Engineering",
            "Information Systems",
            "Applied Mathematics",
            "Physics",
        )
    )
    affil = (
        f"<sup>1</sup>Department of {dept}, {esc(ctx.fake.last_name())} University, "
        f"{esc(ctx.fake.city())} &nbsp; <sup>2</sup>{esc(ctx.company())}"
    )
    return names, affil


def _references(ctx: Ctx, n: int) -> str:
    refs = []
    for _ in range(n):
        authors = ", ".join(
            f"{ctx.fake.last_name()}, {ctx.fake.first_name()[0]}."
            for _ in range(ctx.rng.randint(1, 3))
        )
        title = ctx.passage(10).title
        refs.append(
            f"<li>{esc(authors)} ({ctx.rng.randint(1995, 2024)}). {esc(title)}. "
            f"<i>{ctx.rng.choice(JOURNALS)}</i>, {ctx.rng.randint(3, 60)}"
            f"({ctx.rng.randint(1, 12)}), {ctx.rng.randint(1, 400)}–"
            f"{ctx.rng.randint(401, 900)}.</li>"
        )
    return "<ol class='refs'>" + "".join(refs) + "</ol>"


def _citation(ctx: Ctx, style: str) -> str:
    """One in-text reference in the article's style: numbered or author-year."""
    rng, fake = ctx.rng, ctx.fake
    if style == "numbered":
        numbers = sorted(rng.sample(range(1, 40), rng.choice((1, 1, 2))))
        return "[" + ", ".join(map(str, numbers)) + "]"
    year = rng.randint(1975, 2024)
    form = rng.choice(("{a} et al., {y}", "{a} and {b}, {y}", "{a}, {y}", "{a} et al. {y}"))
    return "(" + form.format(a=fake.last_name(), b=fake.last_name(), y=year) + ")"


def _cited(ctx: Ctx, paragraph: str, style: str | None) -> str:
    """A paragraph (HTML-escaped) whose sentences cite earlier work now and then, as research
    articles do and manuals and reports mostly do not."""
    if style is None:
        return esc(paragraph)
    out = []
    for sentence in prose.split_sentences(paragraph):
        if ctx.chance(0.3) and sentence[-1:] in ".;":
            sentence = f"{sentence[:-1]} {_citation(ctx, style)}{sentence[-1]}"
        out.append(esc(sentence))
    return " ".join(out)


def _sections(
    ctx: Ctx, n: int, numbered: bool, words: tuple[int, int], cite: str | None = None
) -> list[str]:
    out = []
    for i in range(n):
        p = ctx.passage(ctx.rng.randint(*words))
        number = f"{i + 1}. " if numbered else ""
        out.append(
            f"<h2>{number}{esc(p.title)}</h2>"
            + "".join(f"<p>{_cited(ctx, x, cite)}</p>" for x in p.paragraphs)
        )
    return out


def publication(ctx: Ctx) -> tuple[str, str]:
    """A journal article or preprint; about half the kept pages are later pages of the body."""
    rng, t = ctx.rng, ctx.theme
    cols = rng.choice((1, 1, 2, 2, 2))
    ctx.page = rng.choice((0, 0, 0, 1, 1, 2))
    title = ctx.passage(20).title
    names, affil = _authors(ctx)
    abstract = " ".join(ctx.sentences(rng.randint(4, 7), 40))
    cite = rng.choice(("numbered", "author-year"))
    n_sections = rng.randint(2, 4) if ctx.page == 0 else rng.randint(5, 9)
    sections = _sections(ctx, n_sections, rng.random() < 0.7, (80, 220), cite)
    figure = (
        f"<figure>{chart(ctx)}<figcaption>Figure 1. {esc(ctx.sentences(1, 25)[0])}"
        "</figcaption></figure>"
    )
    sections.insert(rng.randint(1, len(sections)), figure)
    journal = rng.choice(JOURNALS)
    long_words = sorted({w.strip(".,;:()").lower() for w in abstract.split() if len(w) > 7})
    keywords = rng.sample(long_words, min(4, len(long_words)))
    html = (
        f"<div class='run'>{journal} · Vol. {rng.randint(2, 40)}, No. {rng.randint(1, 12)} · "
        f"{rng.randint(2001, 2025)}</div><h1>{esc(title)}</h1><p class='au'>{names}</p>"
        f"<p class='af'>{affil}</p><div class='abs'><b>Abstract.</b> {esc(abstract)}"
        f"<p class='kw'><b>Keywords:</b> {esc(', '.join(keywords))}</p></div>"
        f"<div class='body'>{''.join(sections)}<h2>References</h2>"
        f"{_references(ctx, rng.randint(6, 14))}</div>"
    )
    css = (
        f".body {{ columns: {cols}; column-gap: 7mm; text-align: justify; hyphens: auto; }}"
        f" h1 {{ font-size: {rng.choice((17, 19, 22))}pt; text-align: center; }} .au, .af {{ "
        f"text-align: center; margin: 1mm 0; }} .af {{ font-size: 8.5pt; font-style: italic; }}"
        f" .abs {{ margin: 5mm {rng.choice((0, 10))}mm; font-size: 9pt; padding: 3mm; "
        f"border-top: 0.8pt solid #333; border-bottom: 0.8pt solid #333; }} h2 {{ font-size: "
        f"11.5pt; }} .run {{ font-size: 8pt; color: {t.accent}; border-bottom: 0.5pt solid "
        f"#999; }} figure {{ margin: 3mm 0; }} .chart {{ width: 100%; height: auto; }}"
        f" figcaption {{ font-size: 8.5pt; }} .refs {{ font-size: 8pt; padding-left: 5mm; }}"
        f" .kw {{ margin: 2mm 0 0; }}"
    )
    if ctx.chance(0.6):  # running head and folio, on the later pages that show them
        head = title[:60].replace("\\", "").replace("'", "’")  # a CSS string literal
        css += (
            f" @page {{ @top-center {{ content: '{head}'; font-size: 8pt; font-style: italic; }}"
            f" @bottom-center {{ content: counter(page); font-size: 9pt; }} }}"
        )
    return html, css


def report(ctx: Ctx) -> tuple[str, str]:
    rng, t = ctx.rng, ctx.theme
    p = ctx.passage(30)
    rows = "".join(
        f"<tr><td>{esc(ctx.fake.bothify('S-###'))}</td>"
        + "".join(f"<td>{rng.uniform(0, 100):.{rng.randint(1, 3)}f}</td>" for _ in range(4))
        + "</tr>"
        for _ in range(rng.randint(4, 8))
    )
    table = (
        f"<table class='res'><caption>Table 1. Measured values by sample.</caption><tr>"
        "<th>Sample</th><th>Run A</th><th>Run B</th><th>Run C</th><th>Mean</th></tr>"
        f"{rows}</table>"
    )
    sections = _sections(ctx, rng.randint(2, 3), True, (90, 200))
    sections.insert(1, table if rng.random() < 0.6 else f"<div class='fig'>{chart(ctx)}</div>")
    html = (
        f"<div class='hdr'>{logo(ctx, 34)}<span>{esc(ctx.company())}</span><span>Report "
        f"{esc(ctx.fake.bothify('TR-####-??').upper())}</span></div>"
        f"<h1>{esc(p.title)}</h1><table class='meta'><tr><th>Prepared by</th><td>"
        f"{esc(ctx.fake.name())}, {esc(ctx.fake.name())}</td></tr><tr><th>Date</th><td>"
        f"{ctx.date()}</td></tr><tr><th>Status</th><td>{rng.choice(('Final', 'Draft', 'Rev. B'))}"
        f"</td></tr></table><div class='sum'><h2>Summary</h2><p>{esc(p.paragraphs[0])}</p></div>"
        + "".join(sections)
    )
    css = (
        f".hdr {{ display: flex; align-items: center; gap: 4mm; justify-content: "
        f"space-between; border-bottom: 2pt solid {t.accent}; font-size: 9pt; }} h1 {{ "
        f"font-size: 20pt; color: {t.accent}; }} .meta th {{ text-align: left; padding-right: "
        f"6mm; }} .sum {{ background: {t.soft}; padding: 1mm 4mm; margin: 4mm 0; }} h2 {{ "
        f"font-size: 13pt; }} .res {{ width: 100%; margin: 3mm 0; font-size: 9pt; }} .res td,"
        f" .res th {{ border: 0.5pt solid #888; padding: 1mm 2mm; text-align: right; }}"
        f" caption {{ text-align: left; font-style: italic; }} .fig .chart {{ width: 70%; }}"
        f" p {{ text-align: justify; }}"
    )
    return html, css


def specification(ctx: Ctx) -> tuple[str, str]:
    """A product datasheet: name and model, features, a picture, a specification table."""
    rng, t = ctx.rng, ctx.theme
    model = ctx.fake.bothify(rng.choice(("??-####", "???###", "?#### Pro"))).upper()
    product = rng.choice(
        (
            "Controller",
            "Sensor Module",
            "Network Switch",
            "Power Supply",
            "Data Logger",
            "Industrial Gateway",
            "Storage Array",
            "Pump Unit",
        )
    )
    features = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(rng.randint(3, 5), 22))
    specs = "".join(
        f"<tr><th>{name}</th><td>{rng.uniform(lo, hi):.{rng.randint(0, 1)}f} {unit}</td></tr>"
        for name, unit, lo, hi in rng.sample(UNITS, rng.randint(6, 10))
    )
    intro = ctx.passage(60)
    html = (
        f"<div class='band'>{logo(ctx, 40)}<span>{esc(ctx.company())}</span>"
        f"<span class='ds'>DATASHEET</span></div><h1>{model} {product}</h1>"
        f"<p class='sub accent'>{esc(intro.title)}</p><div class='two'><div>"
        + "".join(f"<p>{esc(x)}</p>" for x in intro.paragraphs[:2])
        + f"<h2>Features</h2><ul>{features}</ul></div><div>{photo(ctx, 260, 200)}</div></div>"
        f"<h2>Specifications</h2><table class='spec'>{specs}</table>"
        f"<p class='foot'>Specifications subject to change without notice. Rev. "
        f"{rng.randint(1, 9)}.{rng.randint(0, 9)} · {ctx.date()}</p>"
    )
    css = (
        f".band {{ display: flex; align-items: center; gap: 3mm; background: {t.accent}; "
        f"color: white; padding: 2mm 4mm; font-weight: bold; }} .ds {{ margin-left: auto; "
        f"letter-spacing: 2pt; }} h1 {{ font-size: 22pt; margin-top: 5mm; }} .sub {{ "
        f"font-size: 12pt; }} .two {{ display: flex; gap: 6mm; }} .two > div {{ flex: 1; }}"
        f" .photo {{ width: 100%; }} .spec {{ width: 100%; }} .spec th, .spec td {{ padding: "
        f"1.5mm 3mm; border-bottom: 0.5pt solid #bbb; text-align: left; }} .spec tr:nth-child"
        f"(odd) {{ background: {t.soft}; }} .foot {{ font-size: 8pt; color: #555; "
        f"margin-top: 6mm; }} h2 {{ color: {t.accent}; font-size: 13pt; }}"
    )
    return html, css


PUBLICATION = (publication,)
REPORT = (report,)
SPECIFICATION = (specification,)
