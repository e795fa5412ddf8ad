"""Handwritten notes (handwriting fonts over ruled or squared paper) and file-folder labels/tabs."""

from __future__ import annotations

from models.data.engines.html_style import Ctx, esc
from models.data.engines.vocabulary import HAND, SANS


def note(ctx: Ctx) -> tuple[str, str]:
    """A note, a to-do list or a short letter written by hand on ruled paper."""
    rng = ctx.rng
    face, size = rng.choice(HAND), rng.choice((15, 16, 18, 20))
    line_mm = size * 0.5
    kind = rng.choice(("note", "todo", "letter"))
    who = ctx.fake.first_name()
    if kind == "todo":
        items = "".join(
            f"<li>{esc(' '.join(s.split()[: rng.randint(3, 7)]).rstrip(',.;:'))}</li>"
            for s in ctx.sentences(rng.randint(5, 9), 40)
        )
        text = (
            f"<p>{rng.choice(('To do', 'Things to do', 'Monday', 'Remember'))}:</p><ul>{items}</ul>"
        )
    else:
        body = " ".join(ctx.sentences(rng.randint(3, 6), 30))
        greet = f"<p>Dear {esc(who)},</p>" if kind == "letter" else f"<p>{esc(who)} -</p>"
        text = f"{greet}<p>{esc(body)}</p><p class='sig'>{esc(ctx.fake.first_name())}</p>"
    paper = rng.choice(("ruled", "ruled", "squared", "plain"))
    ink = rng.choice(("#1a2a6c", "#111", "#222a44", "#3b2a1a"))
    # Rules as fixed boxes (repeated on every page): WeasyPrint paints them reliably, unlike
    # gradient backgrounds.
    rules = "".join(
        f"<i class='h' style='top:{k * line_mm:.1f}mm'></i>" for k in range(3, int(300 / line_mm))
    )
    if paper == "squared":
        rules += "".join(f"<i class='v' style='left:{k * 5}mm'></i>" for k in range(1, 60))
    elif paper == "plain":
        rules = ""
    html = f"{rules}<div class='txt'><div class='date'>{ctx.date()}</div>{text}</div>"
    css = (
        f"@page {{ margin: 0; background: #fdfdf8; }} i {{ position: fixed; }} .h {{ left: 0;"
        f" right: 0; border-top: 0.5pt solid #9ab; }} .v {{ top: 0; bottom: 0; border-left: "
        f"0.4pt solid #cde; }} html {{ font-family: "
        f"'{face}'; font-size: {size}pt; color: {ink}; line-height: {line_mm}mm; }} body {{ "
        f"margin: {line_mm * 3}mm {rng.randint(12, 20)}mm 10mm {rng.randint(18, 30)}mm; }} .txt {{ "
        f"transform: rotate({rng.uniform(-1.2, 1.2):.2f}deg); }} p {{ margin: 0 0 {line_mm}mm;"
        f" }} ul {{ margin: 0; padding-left: 8mm; }} .date {{ text-align: right; }} .sig {{ "
        f"margin-left: 50%; }}"
    )
    if paper == "ruled" and rng.random() < 0.7:  # the red margin line of school paper
        css += " body::before { content: ''; position: fixed; top: 0; bottom: 0; left: 14mm;"
        css += " border-left: 0.6pt solid #d77; }"
    return html, css


def folder_labels(ctx: Ctx) -> tuple[str, str]:
    """A sheet of printed file-folder labels, or one big folder tab, as from a label printer."""
    rng, t = ctx.rng, ctx.theme
    face = rng.choice(SANS)
    n = rng.choice((1, 1, 6, 10, 15))
    subjects = [ctx.passage(10).title for _ in range(min(n, 6))]
    labels = ""
    for i in range(n):
        year = rng.randint(1995, 2026)
        labels += (
            f"<div class='lab'><span class='code'>{esc(ctx.fake.bothify('??-###').upper())}"
            f"</span><b>{esc(subjects[i % len(subjects)])}</b><span>{esc(ctx.company())} · "
            f"{year}</span></div>"
        )
    if n == 1:
        html = (
            f"<div class='tab'>{esc(ctx.fake.last_name())}, {esc(ctx.fake.first_name())}"
            f"</div><div class='folder'>{labels}<p>CONFIDENTIAL · "
            f"{esc(ctx.fake.bothify('File ####'))}"
            f"</p><table>"
            + "".join(
                f"<tr><td>{ctx.date()}</td><td>{esc(ctx.fake.name())}</td><td></td></tr>"
                for _ in range(rng.randint(3, 8))
            )
            + "</table></div>"
        )
    else:
        html = f"<div class='sheet'>{labels}</div>"
    css = (
        f"html {{ font-family: '{face}'; }} .sheet {{ display: grid; grid-template-columns: "
        f"repeat({rng.choice((2, 3))}, 1fr); gap: 4mm; }} .lab {{ border: 0.8pt solid #555; "
        f"border-left: 5mm solid {t.accent}; border-radius: 1.5mm; padding: 2mm 3mm; display: "
        f"flex; flex-direction: column; font-size: 9pt; }} .lab b {{ font-size: 12pt; }}"
        f" .code {{ font-family: '{t.mono}'; }} .tab {{ width: 45%; margin-left: "
        f"{rng.choice((0, 25, 50))}%; border: 1pt solid #444; border-bottom: 0; border-radius: "
        f"4mm 4mm 0 0; padding: 3mm 5mm; font-size: 18pt; font-weight: bold; background: "
        f"{t.soft}; }} .folder {{ border: 1pt solid #444; min-height: 200mm; padding: 6mm; "
        f"background: {t.soft}; }} .folder .lab {{ font-size: 14pt; background: white; }}"
        f" .folder .lab b {{ font-size: 24pt; }} table {{ width: 100%; margin-top: 10mm; "
        f"background: white; }} td {{ border: 0.6pt solid #777; padding: 2mm; width: 33%; }}"
    )
    return html, css


HANDWRITTEN = (note,)
FILE_FOLDER = (folder_labels,)
