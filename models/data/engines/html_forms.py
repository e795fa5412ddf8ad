"""Web forms and questionnaires printed to PDF: labelled input boxes, checkboxes, radio buttons,
Likert grids, free-text lines and signature fields."""

from __future__ import annotations

from models.data.engines.html_style import Ctx, esc, logo
from models.data.engines.vocabulary import SCALES, SURVEY_ITEMS

FIELDS = (
    "First name",
    "Last name",
    "Date of birth",
    "Email address",
    "Phone number",
    "Street address",
    "City",
    "Postcode",
    "Country",
    "Company",
    "Job title",
    "Employee ID",
    "Account number",
    "Start date",
    "Department",
    "Reference number",
    "Emergency contact",
    "Vehicle registration",
    "Membership number",
    "Preferred contact time",
)
CHOICES = (
    ("Preferred contact method", ("Email", "Phone", "Post", "Text message")),
    ("Application type", ("New", "Renewal", "Change of details")),
    ("Employment status", ("Full-time", "Part-time", "Self-employed", "Student", "Retired")),
    ("Payment method", ("Credit card", "Bank transfer", "Invoice", "Cheque")),
    ("Request type", ("Access", "Correction", "Deletion", "Other")),
)
OPEN_QUESTIONS = (
    "What did you like most?",
    "What should we improve?",
    "Any other comments?",
    "Please describe your main reason for contacting us.",
)


def _box(kind: str, checked: bool) -> str:
    mark = "●" if kind == "radio" else "✓"
    return f"<span class='{kind}'>{mark if checked else ''}</span>"


def _choice(ctx: Ctx, label: str, options: tuple[str, ...], kind: str) -> str:
    picked = ctx.rng.randrange(len(options)) if ctx.chance(0.6) else -1
    items = "".join(
        f"<label>{_box(kind, i == picked)} {esc(o)}</label>" for i, o in enumerate(options)
    )
    return (
        f"<div class='q'><div class='lab'>{esc(label)}</div><div class='opts'>{items}</div></div>"
    )


def _field(ctx: Ctx, label: str, filled: bool) -> str:
    value = ""
    if filled:
        value = esc(
            ctx.rng.choice(
                (
                    ctx.fake.name(),
                    ctx.fake.city(),
                    ctx.date(),
                    ctx.fake.bothify("##-####"),
                    ctx.fake.email(),
                )
            )
        )
    return (
        f"<div class='fld'><div class='lab'>{esc(label)}</div><div class='in'>{value}</div></div>"
    )


def _header(ctx: Ctx, title: str) -> str:
    intro = " ".join(ctx.sentences(2, 28))
    return (
        f"<div class='hd'>{logo(ctx, 38)}<span class='org'>{esc(ctx.company())}</span>"
        f"<span class='ref muted'>Form {esc(ctx.fake.bothify('??-###').upper())}</span></div>"
        f"<h1>{esc(title)}</h1><p class='intro'>{esc(intro)}</p>"
    )


def form(ctx: Ctx) -> tuple[str, str]:
    rng = ctx.rng
    title = rng.choice(
        (
            "Registration Form",
            "Application Form",
            "Change of Details",
            "Customer Information Form",
            "Request Form",
            "Enrolment Form",
        )
    )
    filled = rng.random() < 0.5
    fields = "".join(
        _field(ctx, f, filled and ctx.chance(0.8)) for f in rng.sample(FIELDS, rng.randint(6, 12))
    )
    choices = "".join(
        _choice(ctx, lab, opts, rng.choice(("radio", "check")))
        for lab, opts in rng.sample(CHOICES, rng.randint(1, 3))
    )
    html = (
        _header(ctx, title)
        + f"<fieldset><legend>Personal details</legend><div class='grid'>{fields}</div></fieldset>"
        f"<fieldset><legend>Options</legend>{choices}</fieldset>"
        f"<p class='small'>{_box('check', filled)} {esc(ctx.sentences(1, 30)[0])}</p>"
        "<div class='grid'><div class='fld'><div class='lab'>Signature</div><div class='in'>"
        "</div></div><div class='fld'><div class='lab'>Date</div><div class='in'></div></div></div>"
        "<button>Submit</button>"
    )
    return html, _css(ctx)


def questionnaire(ctx: Ctx) -> tuple[str, str]:
    rng = ctx.rng
    scale = rng.choice(SCALES)
    title = rng.choice(
        (
            "Customer Satisfaction Survey",
            "Course Evaluation",
            "Employee Survey",
            "Feedback Questionnaire",
            "Visitor Survey",
            "Service Questionnaire",
        )
    )
    head = "".join(f"<th>{esc(s)}</th>" for s in scale)
    rows = ""
    for i, statement in enumerate(rng.sample(SURVEY_ITEMS, rng.randint(5, 9))):
        picked = rng.randrange(len(scale)) if rng.random() < 0.6 else -1
        cells = "".join(f"<td>{_box('radio', j == picked)}</td>" for j in range(len(scale)))
        rows += f"<tr><th>{i + 1}. {esc(statement)}</th>{cells}</tr>"
    extra = "".join(
        _choice(ctx, f"{len(rows) % 7 + 1}. {lab}", opts, "check")
        for lab, opts in rng.sample(CHOICES, rng.randint(1, 2))
    )
    opens = "".join(
        f"<div class='open'><div class='lab'>{esc(q)}</div>"
        + "<div class='line'></div>" * rng.randint(2, 4)
        + "</div>"
        for q in rng.sample(OPEN_QUESTIONS, rng.randint(1, 2))
    )
    html = (
        _header(ctx, title) + f"<table class='lk'><tr><th></th>{head}</tr>{rows}</table>"
        f"{extra}{opens}<p class='muted small'>Thank you for taking part.</p>"
    )
    return html, _css(ctx)


def _css(ctx: Ctx) -> str:
    t, rng = ctx.theme, ctx.rng
    radius = rng.choice((0, 2, 4))
    return (
        f".hd {{ display: flex; align-items: center; gap: 3mm; }} .org {{ font-weight: bold; "
        f"}} .ref {{ margin-left: auto; font-size: 8.5pt; }} h1 {{ color: {t.accent}; "
        f"font-size: 20pt; }} .intro {{ font-size: 9.5pt; }} fieldset {{ border: 0.8pt solid "
        f"{t.mid}; border-radius: {radius}mm; margin: 3mm 0; padding: 2mm 4mm; }} legend {{ "
        f"font-weight: bold; color: {t.accent}; padding: 0 2mm; }} .grid {{ display: grid; "
        f"grid-template-columns: repeat({rng.choice((1, 2, 2))}, 1fr); gap: 2mm 6mm; }}"
        f" .lab {{ font-size: 9pt; font-weight: bold; margin-bottom: 1mm; }} .in {{ border: "
        f"0.8pt solid #777; border-radius: {radius}mm; height: 7mm; padding: 0 2mm; "
        f"line-height: 7mm; font-family: '{t.mono}'; }} .q {{ margin: 2mm 0; }} .opts label "
        f"{{ margin-right: 6mm; }} .radio, .check {{ display: inline-block; width: 3.4mm; "
        f"height: 3.4mm; border: 0.8pt solid #333; text-align: center; line-height: 3.4mm; "
        f"font-size: 8pt; vertical-align: middle; }} .radio {{ border-radius: 50%; }}"
        f" button {{ margin-top: 4mm; background: {t.accent}; color: white; border: 0; "
        f"padding: 2mm 8mm; border-radius: {radius}mm; font-size: 11pt; }} .small {{ "
        f"font-size: 8.5pt; }} .lk {{ width: 100%; font-size: 9pt; margin: 3mm 0; }} .lk th "
        f"{{ font-weight: normal; padding: 1.5mm; font-size: 8pt; }} .lk tr > th:first-child "
        f"{{ text-align: left; width: 45%; font-size: 9pt; }} .lk td {{ text-align: center; "
        f"}} .lk tr:nth-child(even) {{ background: {t.soft}; }} .line {{ border-bottom: 0.6pt "
        f"solid #777; height: 7mm; }} .open {{ margin: 3mm 0; }}"
    )


FORM = (form,)
QUESTIONNAIRE = (questionnaire,)
