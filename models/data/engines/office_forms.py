"""Fill-in forms and questionnaires as Word tables: labelled fields, tick boxes, rating scales,
declarations and signature lines."""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.shared import Inches

from models.data.engines import office_text as words
from models.data.engines.dates import YEAR, day
from models.data.engines.office_letters import company, letterhead
from models.data.engines.office_paragraphs import cell_text, para, rule, run
from models.data.engines.office_tables import cell_borders, cell_margins, shade, table
from models.data.engines.office_theme import Ctx
from models.data.engines.vocabulary import SCALES, SURVEY_ITEMS

EMPTY, TICKED = "☐", "☑"
FORM_CHOICES = (
    ("Type of request:", ["New", "Change", "Cancellation"]),
    ("Preferred contact method:", ["Email", "Phone", "Post"]),
    ("Employment status:", ["Full-time", "Part-time", "Contractor", "Other"]),
    ("Payment method:", ["Card", "Bank transfer", "Cheque"]),
    ("Have you applied before?", ["Yes", "No"]),
)
DECLARATIONS = (
    "I confirm that the information given on this form is true and complete.",
    "I authorise {co} to verify the information provided and to contact the referees named.",
    "I understand that false or misleading information may lead to my application being refused.",
    "By signing below I agree that {co} may store and process these details for this purpose.",
)


def _section(doc: DocxDocument, ctx: Ctx, title: str) -> None:
    th = ctx.theme
    if ctx.rng.random() < 0.5:
        p = para(doc, title.upper(), bold=True, size=th.size, before=10, after=4, color=th.accent)
        rule(p, th.accent, 8)
    else:
        t = table(doc, 1, 1, [7.0], borders="none")
        shade(t.cell(0, 0), th.accent)
        cell_text(t.cell(0, 0), title, bold=True, color="FFFFFF")
        para(doc, "", after=2, size=4)


def _fields(doc: DocxDocument, ctx: Ctx, labels: list[str], filled: bool) -> None:
    """Label/value rows, two pairs per row, values boxed or underlined."""
    fake, rng = ctx.fake, ctx.rng
    boxed = rng.random() < 0.5
    rows = (len(labels) + 1) // 2
    t = table(
        doc, rows, 4, [1.4, 2.0, 1.4, 2.0], borders="grid" if boxed else "none", color="999999"
    )
    cell_margins(t, 4, 4, 4)
    values = {
        "Name": fake.name,
        "Full name": fake.name,
        "Email": fake.email,
        "Phone": fake.phone_number,
        "Date": lambda: day(fake, -30 * YEAR, 0).strftime("%m/%d/%Y"),
        "City": fake.city,
        "Address": fake.street_address,
        "Employee ID": lambda: str(rng.randint(10000, 99999)),
    }
    for i, label in enumerate(labels):
        r, c = divmod(i, 2)
        cell_text(t.cell(r, 2 * c), label, bold=not boxed, size=ctx.theme.size - 1)
        if boxed:
            shade(t.cell(r, 2 * c), ctx.theme.light)
        else:
            cell_borders(t.cell(r, 2 * c + 1), "bottom", 4, "000000")
        if filled and label in values and rng.random() < 0.8:
            cell_text(t.cell(r, 2 * c + 1), values[label](), font="Liberation Mono")


def _choices(doc: DocxDocument, ctx: Ctx, question: str, options: list[str], filled: bool) -> None:
    p = para(doc, question, after=2, before=4)
    p = para(doc, "", after=4)
    p.paragraph_format.left_indent = Inches(0.2)
    tick = ctx.rng.randrange(len(options)) if filled else -1
    for k, option in enumerate(options):
        run(
            p,
            f"{TICKED if k == tick else EMPTY} {option}      ",
            font="DejaVu Sans",
            size=ctx.theme.size - 0.5,
        )


def form(doc: DocxDocument, ctx: Ctx) -> str:
    rng, fake, th = ctx.rng, ctx.fake, ctx.theme
    title = rng.choice(words.FORM_TITLES)
    filled = rng.random() < 0.4
    if rng.random() < 0.5:
        letterhead(doc, ctx, company(ctx), "minimal")
    para(
        doc,
        title,
        size=rng.choice((16, 18, 22)),
        bold=True,
        font=th.heading,
        align=rng.choice(("left", "center")),
        after=4,
    )
    para(
        doc,
        rng.choice(
            (
                f"Please complete in BLOCK CAPITALS and return to {fake.company()}.",
                "All fields marked * are required.",
                f"Form {rng.choice('ABCHR')}-{rng.randint(10, 999)} rev. {rng.randint(1, 9)}",
            )
        ),
        size=th.size - 1,
        italic=True,
        after=8,
    )
    _section(doc, ctx, rng.choice(("Personal details", "Applicant information", "Contact details")))
    _fields(
        doc,
        ctx,
        ["Full name", "Employee ID", "Address", "City", "Phone", "Email", "Date", "Department"],
        filled,
    )
    _section(doc, ctx, rng.choice(("Request details", "Details", "Preferences")))
    for q, opts in rng.sample(FORM_CHOICES, rng.randint(2, 3)):
        _choices(doc, ctx, q, opts, filled)
    para(doc, "Reason / additional information:", before=6, after=2)
    t = table(doc, 1, 1, [7.0], borders="grid", color="999999")
    for _ in range(rng.randint(2, 4)):
        para(t.cell(0, 0), "", after=10)
    _section(doc, ctx, "Declaration")
    declaration = rng.choice(DECLARATIONS).format(co=fake.company())
    para(doc, declaration, size=th.size - 1, after=18)
    sig = table(doc, 2, 3, [3.0, 0.5, 2.5], borders="none")
    cell_borders(sig.cell(0, 0), "bottom")
    cell_borders(sig.cell(0, 2), "bottom")
    cell_text(sig.cell(1, 0), "Signature", size=th.size - 1)
    cell_text(sig.cell(1, 2), "Date", size=th.size - 1)
    if rng.random() < 0.5:
        _section(doc, ctx, "For office use only")
        _fields(doc, ctx, ["Received by", "Date", "Approved", "Reference"], False)
    return f"form/{'filled' if filled else 'blank'}"


def questionnaire(doc: DocxDocument, ctx: Ctx) -> str:
    rng, th = ctx.rng, ctx.theme
    title = rng.choice(words.SURVEY_TITLES)
    filled = rng.random() < 0.35
    para(doc, ctx.fake.company(), size=th.size, color="555555", align="center", after=0)
    para(
        doc,
        title,
        size=rng.choice((16, 18, 20)),
        bold=True,
        font=th.heading,
        color=th.accent,
        align="center",
        after=6,
    )
    para(
        doc,
        "Thank you for taking a few minutes to answer these questions. "
        "Your answers are confidential.",
        size=th.size - 1,
        italic=True,
        align="center",
        after=10,
    )
    scale = rng.choice(SCALES)
    items = rng.sample(SURVEY_ITEMS, rng.randint(5, 8))
    para(
        doc,
        f"Section A. Please rate each statement ({scale[0]} to {scale[-1]}).",
        bold=True,
        after=4,
    )
    t = table(
        doc,
        len(items) + 1,
        len(scale) + 1,
        [3.0] + [3.7 / len(scale)] * len(scale),
        borders=rng.choice(("grid", "rows")),
        color="999999",
    )
    cell_margins(t, 3, 3, 3)
    for j, level in enumerate(scale, 1):
        cell_text(t.cell(0, j), level, size=th.size - 2, bold=True, align="center")
        shade(t.cell(0, j), th.light)
    mark = rng.choice(("○", EMPTY))
    for i, item in enumerate(items, 1):
        cell_text(t.cell(i, 0), f"{i}. {item}", size=th.size - 1)
        pick = rng.randrange(len(scale)) if filled else -1
        for j in range(len(scale)):
            sym = ("●" if mark == "○" else TICKED) if j == pick else mark
            cell_text(t.cell(i, j + 1), sym, align="center", font="DejaVu Sans")
    para(doc, "Section B. About you", bold=True, before=12, after=2)
    n = len(items)
    for q, opts in rng.sample(
        (
            (
                "How often do you use our services?",
                ["Weekly", "Monthly", "A few times a year", "First time"],
            ),
            ("Age group:", ["Under 25", "25-34", "35-49", "50-64", "65+"]),
            ("How did you hear about us?", ["Website", "Friend", "Social media", "Other"]),
            ("Overall, how satisfied are you?", ["Very", "Somewhat", "Not very", "Not at all"]),
        ),
        rng.randint(2, 3),
    ):
        n += 1
        _choices(doc, ctx, f"{n}. {q}", opts, filled)
    para(doc, f"{n + 1}. What could we do better?", before=6, after=2)
    for _ in range(rng.randint(2, 4)):
        rule(para(doc, "", after=8), "808080", 4)
    return f"questionnaire/{'filled' if filled else 'blank'}"
