"""Specifications and scientific/technical reports."""

from __future__ import annotations

import io

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches
from PIL import Image, ImageDraw, ImageFont

from models.data.engines import office_text as words
from models.data.engines.dates import YEAR, day
from models.data.engines.office_paragraphs import cell_text, para, run
from models.data.engines.office_tables import cell_margins, shade, table
from models.data.engines.office_theme import Ctx, Theme

REPORT_KINDS = ("Technical Report", "Research Report", "Internal Report", "Project Report")
UNITS = ("Department of", "Laboratory for", "Institute of", "Centre for")


def specification(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    product = f"{rng.choice(words.PRODUCT_LINES)} {rng.choice(words.COMPONENTS).title()}"
    doc_no = f"{rng.choice(('SPEC', 'TS', 'RS', 'DS'))}-{rng.randint(100, 9999)}"
    t = table(doc, 2, 4, [1.2, 2.8, 1.2, 1.5], borders="grid", color="000000")
    cells = (
        ("Document", doc_no),
        ("Revision", rng.choice("ABCDE") + str(rng.randint(0, 5))),
        ("Title", f"{product} Specification"),
        ("Date", day(fake, -30 * YEAR, 0).strftime("%Y-%m-%d")),
    )
    for k, (key, value) in enumerate(cells):
        r, c = divmod(k, 2)
        cell_text(t.cell(r, 2 * c), key, bold=True, size=th.size - 1)
        shade(t.cell(r, 2 * c), th.light)
        cell_text(t.cell(r, 2 * c + 1), value, size=th.size - 1)
    para(
        doc,
        f"{rng.choice(('Technical', 'Functional', 'Product', 'Performance'))} Specification",
        size=20,
        bold=True,
        font=th.heading,
        before=14,
        after=2,
    )
    para(doc, product, size=14, color=th.accent, after=10)
    number = 0
    for title in ("Scope", "Applicable documents", "Requirements"):
        number += 1
        _section(doc, th, f"{number}  {title}")
        if title == "Requirements":
            break
        for j, text in enumerate(ctx.sentences(rng.randint(2, 3))):
            p = para(doc, "", after=4)
            run(p, f"{number}.{j + 1}  ", bold=True)
            run(p, text)
    n = rng.randint(6, 10)
    req = table(doc, n + 1, 4, [0.8, 4.1, 1.1, 0.9], borders="grid", color="808080")
    cell_margins(req, 2, 2, 4)
    for j, head in enumerate(("ID", "Requirement", "Verification", "Priority")):
        cell_text(req.cell(0, j), head, bold=True, size=th.size - 1)
        shade(req.cell(0, j), th.light)
    for i in range(1, n + 1):
        text = rng.choice(words.SHALL).format(
            a=rng.randint(2, 68), b=rng.randint(40, 85), c=rng.choice("AB")
        )
        values = (
            f"R-{i:03d}",
            f"The {rng.choice(words.COMPONENTS)} shall {text}.",
            rng.choice(words.VERIFY),
            rng.choice(("Must", "Should", "May")),
        )
        for j, value in enumerate(values):
            cell_text(req.cell(i, j), value, size=th.size - 1)
    _section(doc, th, f"{number + 1}  Verification", before=10)
    para(doc, " ".join(ctx.sentences(3)), align=th.align)
    return "specification/numbered"


def _chart(ctx: Ctx) -> bytes:
    """A small bar or line chart as a PNG (a figure the way reports paste them in)."""
    rng = ctx.rng
    w, h = 900, 480
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype("DejaVuSans.ttf", 20)
    x0, y0, x1, y1 = 90, 30, w - 30, h - 70
    d.line([(x0, y0), (x0, y1), (x1, y1)], fill="black", width=3)
    n = rng.randint(4, 8)
    values = [rng.uniform(0.2, 1.0) for _ in range(n)]
    step = (x1 - x0) / n
    colour = "#" + ctx.theme.accent
    for k in range(5):
        y = y1 - (y1 - y0) * k / 4
        d.line([(x0 - 8, y), (x0, y)], fill="black", width=2)
        d.text((x0 - 60, y - 12), f"{k * 25}", fill="black", font=font)
    points = []
    for i, v in enumerate(values):
        cx = x0 + step * (i + 0.5)
        top = y1 - (y1 - y0) * v
        points.append((cx, top))
        d.text((cx - 10, y1 + 12), f"{'ABCDEFGH'[i]}", fill="black", font=font)
        if rng.random() < 0.5 or len(points) == 1:
            d.rectangle([cx - step * 0.3, top, cx + step * 0.3, y1], fill=colour)
    if rng.random() < 0.5:
        d.line(points, fill="black", width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def scientific_report(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    title, paragraphs = ctx.prose(rng.choice((200, 300)))
    para(
        doc,
        f"{rng.choice(REPORT_KINDS)} {fake.bothify('??-####').upper()}",
        size=th.size - 1,
        color="555555",
        align="center",
        after=10,
    )
    para(
        doc,
        title,
        size=rng.choice((18, 20, 22)),
        bold=True,
        font=th.heading,
        align="center",
        after=6,
    )
    authors = ", ".join(fake.name() for _ in range(rng.randint(2, 4)))
    para(doc, authors, align="center", after=0)
    para(
        doc,
        f"{rng.choice(UNITS)} {rng.choice(words.FIELDS)}, {fake.company()}",
        italic=True,
        size=th.size - 1,
        align="center",
        after=0,
    )
    para(
        doc, day(fake, -30 * YEAR, 0).strftime("%B %Y"), size=th.size - 1, align="center", after=12
    )
    p = para(doc, "", align="justify", after=10)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Inches(0.5)
    run(p, "Abstract. ", bold=True)
    run(p, " ".join(ctx.sentences(3)), size=th.size - 0.5)
    heads = iter(("Introduction", "Method", "Results", "Discussion"))
    for number, text in enumerate(paragraphs[:3], 1):
        _section(doc, th, f"{number}. {next(heads)}", step=1.5)
        para(doc, text, align=th.align, after=6)
        if number == 2:
            if rng.random() < 0.5:
                doc.add_picture(io.BytesIO(_chart(ctx)), width=Inches(rng.choice((3.5, 4.5))))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                para(
                    doc,
                    f"Figure 1. {_caption(ctx)}",
                    italic=True,
                    size=th.size - 1,
                    align="center",
                    after=8,
                )
            else:
                _results_table(doc, ctx)
    return "scientific_report/article"


def _results_table(doc: DocxDocument, ctx: Ctx) -> None:
    rng, th = ctx.rng, ctx.theme
    para(doc, f"Table 1. {_caption(ctx)}", italic=True, size=th.size - 1, after=2)
    cols = rng.randint(3, 5)
    rows = rng.randint(3, 6)
    t = table(doc, rows + 1, cols + 1, [1.6] + [4.8 / cols] * cols, borders="rows", color="000000")
    cell_text(t.cell(0, 0), rng.choice(("Sample", "Condition", "Group", "Run")), bold=True)
    for j in range(1, cols + 1):
        cell_text(
            t.cell(0, j),
            rng.choice(("Mean", "SD", "n", "Yield (%)", "Time (s)", "Error", "p")),
            bold=True,
            align="right",
        )
    for i in range(1, rows + 1):
        cell_text(t.cell(i, 0), f"{rng.choice(('S', 'G', 'T'))}{i}")
        for j in range(1, cols + 1):
            cell_text(t.cell(i, j), f"{rng.uniform(0, 100):.{rng.choice((1, 2))}f}", align="right")


def _caption(ctx: Ctx) -> str:
    rng = ctx.rng
    quantity = rng.choice(
        (
            "Mean response time",
            "Throughput",
            "Error rate",
            "Yield",
            "Concentration",
            "Energy use",
            "Accuracy",
            "Failure rate",
            "Recovery time",
        )
    )
    group = rng.choice(("condition", "sample", "configuration", "site", "batch", "treatment group"))
    stat = rng.choice(("mean", "median"))
    return f"{quantity} by {group} ({rng.randint(3, 40)} runs, {stat} values)."


def _section(doc: DocxDocument, th: Theme, text: str, step: float = 2, before: float = 8) -> None:
    """A numbered section heading: bold, in the heading face, `step` points above the body."""
    para(doc, text, bold=True, size=th.size + step, font=th.heading, before=before, after=4)
