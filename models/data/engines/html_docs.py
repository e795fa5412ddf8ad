"""Correspondence and CVs: modern business letters, memos, e-mail client printouts, résumés."""

from __future__ import annotations

from models.data.engines.dates import YEAR, moment
from models.data.engines.html_style import Ctx, esc, logo

SKILLS = (
    "Project management",
    "Budget planning",
    "Data analysis",
    "Python",
    "SQL",
    "Excel",
    "Customer relations",
    "Negotiation",
    "Technical writing",
    "Team leadership",
    "Quality assurance",
    "Public speaking",
    "Scheduling",
    "Procurement",
    "Linux",
    "Research design",
    "Statistics",
    "Graphic design",
    "Bookkeeping",
    "Training",
)


def _address(ctx: Ctx) -> str:
    return "<br>".join(esc(x) for x in str(ctx.fake.address()).splitlines())


def _letterhead(ctx: Ctx, firm: str) -> str:
    t = ctx.theme
    contact = f"{esc(ctx.fake.phone_number())} · {esc(ctx.fake.company_email())}"
    if ctx.chance(0.5):  # coloured band across the top
        return (
            f'<div class="band">{logo(ctx, 40)}<span class="firm">{esc(firm)}</span>'
            f'<span class="contact">{contact}</span></div>'
            f"<style>.band {{ background: {t.accent}; color: white; padding: 4mm 6mm; "
            f"display: flex; align-items: center; gap: 4mm; margin-bottom: 10mm; }}"
            f".band .firm {{ font: bold 16pt '{t.heading}'; flex: 1; }}"
            f".band .contact {{ font-size: 8.5pt; }}</style>"
        )
    side = ctx.rng.choice(("left", "right", "center"))
    return (
        f'<div class="head" style="text-align:{side}">{logo(ctx, 48)}'
        f'<div class="firm accent">{esc(firm)}</div>'
        f'<div class="muted small">{_address(ctx)}<br>{contact}</div></div>'
        f"<style>.head {{ border-bottom: 1.5pt solid {t.accent}; padding-bottom: 3mm; "
        f"margin-bottom: 10mm; }} .firm {{ font: bold 17pt '{t.heading}'; }}"
        f".small {{ font-size: 8.5pt; }}</style>"
    )


def letter(ctx: Ctx) -> tuple[str, str]:
    fake, firm = ctx.fake, ctx.company()
    name = fake.name()
    body = ctx.paras(ctx.rng.randint(150, 260))
    subject = ctx.sources[-1].title
    closing = ctx.rng.choice(("Sincerely,", "Kind regards,", "Best regards,", "Yours faithfully,"))
    html = (
        f"{_letterhead(ctx, firm)}<p>{esc(ctx.date())}</p>"
        f'<p class="to">{esc(name)}<br>{esc(fake.job())}<br>{_address(ctx)}</p>'
        f"<p><b>Re: {esc(subject)}</b></p><p>Dear {esc(name.split()[0])},</p>{body}"
        f"<p>{closing}</p><p class='sig'>{esc(fake.name())}<br>"
        f"<span class='muted'>{esc(fake.job())}, {esc(firm)}</span></p>"
    )
    css = ".to { margin: 4mm 0 8mm; } .sig { margin-top: 12mm; } p { text-align: justify; }"
    return html, css


def memo(ctx: Ctx) -> tuple[str, str]:
    fake, t = ctx.fake, ctx.theme
    p = ctx.passage(ctx.rng.randint(140, 260))
    fields = [
        ("To", f"{fake.name()}, {fake.job()}"),
        ("From", fake.name()),
        ("CC", ", ".join(fake.name() for _ in range(ctx.rng.randint(1, 3)))),
        ("Date", ctx.date()),
        ("Subject", p.title),
    ]
    if ctx.chance(0.5):
        rows = "".join(f"<tr><th>{k}:</th><td>{esc(v)}</td></tr>" for k, v in fields)
        head = f'<table class="hdr">{rows}</table>'
    else:
        head = "".join(f"<p class='f'><b>{k.upper()}:</b> {esc(v)}</p>" for k, v in fields)
    title = ctx.rng.choice(("MEMORANDUM", "Memo", "Internal Memo", "INTEROFFICE MEMORANDUM"))
    bullets = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(3, 28))
    html = (
        f'<div class="top">{logo(ctx, 36) if ctx.chance(0.6) else ""}'
        f'<span class="firm">{esc(ctx.company())}</span></div><h1>{title}</h1>{head}<hr>'
        + "".join(f"<p>{esc(x)}</p>" for x in p.paragraphs)
        + (f"<ul>{bullets}</ul>" if ctx.chance(0.6) else "")
        + f"<p class='init'>{esc(''.join(w[0] for w in fake.name().split()[:2]))}</p>"
    )
    css = (
        f".top {{ display: flex; align-items: center; gap: 3mm; }} .firm {{ font-weight: bold; "
        f"color: {t.accent}; }} h1 {{ font-size: {ctx.rng.choice((20, 24, 28))}pt; "
        f"letter-spacing: 1pt; }} .hdr th {{ text-align: left; padding: 1.5mm 6mm 1.5mm 0; }}"
        f" .f {{ margin: 0 0 1.5mm; }} hr {{ border: 0; border-top: 2pt solid {t.accent}; "
        f"margin: 4mm 0 6mm; }} .init {{ margin-top: 8mm; font-style: italic; }}"
    )
    return html, css


def email(ctx: Ctx) -> tuple[str, str]:
    """A mail client's printout: account line, header block, body, quoted earlier messages."""
    fake, t = ctx.fake, ctx.theme
    me, other = fake.name(), fake.name()
    domain = fake.domain_name()

    def addr(name: str) -> str:
        return f"{name} &lt;{esc(name.lower().replace(' ', '.'))}@{domain}&gt;"

    subject = ctx.passage(60).title
    header = [
        ("From", addr(other)),
        (
            "Sent" if ctx.chance(0.5) else "Date",
            esc(moment(fake, -4 * YEAR, 0).strftime("%A, %B %d, %Y %I:%M %p")),
        ),
        ("To", addr(me)),
        ("Subject", esc(subject)),
    ]
    if ctx.chance(0.5):
        header.insert(3, ("Cc", addr(fake.name())))
    rows = "".join(f"<tr><th>{k}:</th><td>{v}</td></tr>" for k, v in header)
    body = f"<p>Hi {esc(me.split()[0])},</p>{ctx.paras(ctx.rng.randint(60, 140))}"
    quoted = ""
    for _ in range(ctx.rng.randint(1, 2)):
        when = moment(fake, -4 * YEAR, 0).strftime("%a, %b %d, %Y at %H:%M")
        quoted += (
            f'<p class="muted">On {when}, {addr(me)} wrote:</p>'
            f"<blockquote>{ctx.paras(50)}</blockquote>"
        )
    client = ctx.rng.choice(("Mail", "Webmail", "Inbox"))
    html = (
        f'<div class="acct"><b>{esc(client)}</b><span>{esc(me)} &lt;'
        f"{esc(me.lower().replace(' ', '.'))}@{domain}&gt;</span></div>"
        f'<h2>{esc(subject)}</h2><p class="muted">1 message</p>'
        f'<table class="mh">{rows}</table>{body}<p>Thanks,<br>{esc(other.split()[0])}</p>{quoted}'
    )
    css = (
        f".acct {{ display: flex; justify-content: space-between; border-bottom: 1pt solid "
        f"#999; padding-bottom: 2mm; font-size: 9pt; }} h2 {{ font-size: 15pt; }}"
        f" .mh {{ font-size: 9.5pt; margin-bottom: 5mm; }} .mh th {{ text-align: left; "
        f"padding-right: 4mm; color: #444; }} blockquote {{ margin: 0 0 0 2mm; padding-left: "
        f"3mm; border-left: 2pt solid {t.mid}; color: #333; }}"
    )
    return html, css


def resume(ctx: Ctx) -> tuple[str, str]:
    fake, t, rng = ctx.fake, ctx.theme, ctx.rng
    name, job = fake.name(), fake.job()
    jobs = ""
    for _ in range(rng.randint(2, 3)):
        start = rng.randint(2005, 2020)
        duties = "".join(f"<li>{esc(s)}</li>" for s in ctx.sentences(2, 24))
        jobs += (
            f"<div class='job'><b>{esc(fake.job())}</b> · {esc(ctx.company())}"
            f"<span class='when'>{start} – {rng.choice(('Present', start + rng.randint(1, 4)))}"
            f"</span><ul>{duties}</ul></div>"
        )
    school = (
        f"{fake.last_name()} {rng.choice(('University', 'College', 'Institute of Technology'))}"
    )
    degree = rng.choice(("B.Sc.", "M.Sc.", "B.A.", "MBA", "Ph.D.", "M.Eng."))
    skills = "".join(f"<li>{esc(w)}</li>" for w in rng.sample(SKILLS, rng.randint(5, 8)))
    contact = (
        f"{esc(fake.email())}<br>{esc(fake.phone_number())}<br>{esc(fake.city())}"
        f"<br>{esc(fake.url())}"
    )
    summary = " ".join(ctx.sentences(2, 30))
    side = (
        f"<h3>Contact</h3><p>{contact}</p><h3>Skills</h3><ul>{skills}</ul>"
        f"<h3>Languages</h3><p>English, {esc(fake.language_name())}</p>"
    )
    main = (
        f"<h3>Profile</h3><p>{esc(summary)}</p><h3>Experience</h3>{jobs}"
        f"<h3>Education</h3><p><b>{degree}</b>, {esc(school)}, {rng.randint(1998, 2015)}</p>"
    )
    html = f"<h1>{esc(name)}</h1><p class='role accent'>{esc(job)}</p>"
    if rng.random() < 0.5:  # sidebar layout
        html += f'<div class="cols"><aside>{side}</aside><main>{main}</main></div>'
    else:
        html += main + side
    css = (
        f"h1 {{ font-size: 26pt; margin: 0; }} .role {{ font-size: 13pt; margin-bottom: 6mm; }}"
        f" h3 {{ text-transform: uppercase; font-size: 10.5pt; letter-spacing: 1pt; color: "
        f"{t.accent}; border-bottom: 1pt solid {t.mid}; }} .cols {{ display: flex; gap: 7mm; }}"
        f" aside {{ width: 32%; background: {t.soft}; padding: 3mm; }} main {{ flex: 1; }}"
        f" .when {{ margin-left: 3mm; color: #555; }}"
        f" ul {{ margin: 1mm 0 3mm; padding-left: 5mm; }}"
        f" .job {{ margin-bottom: 2mm; }}"
    )
    return html, css


LETTER = (letter,)
MEMO = (memo,)
EMAIL = (email,)
RESUME = (resume,)
