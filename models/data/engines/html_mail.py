"""Plain-text e-mail printouts: a message printed as text in a fixed-width face, the way mail
readers, terminals and list archives print it, continued over as many pages as the body needs.

Most e-mail pages in archives are such printouts, and most of their pages after the first carry no
header block at all: only wrapped body text, quoted replies, signatures and list footers. So this
template writes long messages and keeps any of their pages (Ctx.page), not only the first."""

from __future__ import annotations

import textwrap

from models.data.engines.dates import YEAR, moment
from models.data.engines.html_style import Ctx, esc

# Which page of the laid-out printout to keep: first pages carry the header block, later ones
# only body text; about half the kept pages are continuations where the message runs that long.
PAGE_CHOICES = (0, 0, 0, 1, 1, 2, 3)
LIST_WORDS = ("users", "devel", "discuss", "announce", "help", "dev", "general", "project")
# What technical mail quotes between its paragraphs: commands someone ran, with some output.
COMMANDS = (
    "make",
    "make install",
    "make check",
    "./configure --prefix={dir}",
    "ls -l {path}",
    "cat {path}",
    "grep -rn {word} {dir}",
    "python3 {file}",
    "tar xzf {word}-{ver}.tar.gz",
    "cd {dir}",
    "ssh {user}@{host}",
    "sudo systemctl restart {word}",
    "tail -n 50 /var/log/{word}.log",
    "cp {path} {dir}",
    "chmod 755 {file}",
    "mkdir -p {dir}",
    "rsync -av {dir}/ {user}@{host}:{dir}/",
    "curl -O https://{host}/{word}-{ver}.tar.gz",
    "find {dir} -name '*.{ext}'",
    "ps aux | grep {word}",
    "df -h",
)


def _address(ctx: Ctx, name: str, domain: str) -> str:
    local = name.lower().replace(" ", ctx.rng.choice((".", "_", "")))
    return f"{name} <{local}@{domain}>" if ctx.chance(0.7) else f"{local}@{domain}"


def _wrap(text: str, width: int, prefix: str = "") -> list[str]:
    return [prefix + line for line in textwrap.wrap(text, width - len(prefix))] or [prefix]


def _headers(ctx: Ctx, sender: str, to: str, subject: str, list_name: str | None) -> list[str]:
    fake, rng = ctx.fake, ctx.rng
    sent = moment(fake, -8 * YEAR, 0)
    date = sent.strftime(
        rng.choice(("%a, %d %b %Y %H:%M:%S +0000", "%A, %B %d, %Y %I:%M %p", "%d.%m.%Y %H:%M"))
    )
    fields = [("From", sender), ("To", to), ("Date", date), ("Subject", subject)]
    if ctx.chance(0.4):
        fields.insert(2, ("Cc", _address(ctx, fake.name(), fake.domain_name())))
    if ctx.chance(0.3):
        fields.append(("Message-ID", f"<{fake.uuid4()[:18]}@{fake.domain_name()}>"))
    if list_name and ctx.chance(0.6):
        fields.append(("List-Id", f"<{list_name}>"))
    if ctx.chance(0.25):
        fields.append(("X-Mailer", rng.choice(("Mutt", "Gnus", "Pine", "mailx", "Evolution"))))
    if ctx.chance(0.15):  # some clients print the fields in their own order
        rng.shuffle(fields)
    return [line for name, value in fields for line in _wrap(f"{name}: {value}", 76)]


def _command(ctx: Ctx) -> str:
    fake, rng = ctx.fake, ctx.rng
    directory = "/" + "/".join(fake.word() for _ in range(rng.randint(1, 3)))
    return rng.choice(COMMANDS).format(
        dir=directory,
        path=f"{directory}/{fake.file_name()}",
        file=fake.file_name(extension="py"),
        word=fake.word(),
        ver=f"{rng.randint(0, 4)}.{rng.randint(0, 20)}",
        user=fake.user_name(),
        host=fake.hostname(),
        ext=fake.file_extension(),
    )


def _transcript(ctx: Ctx) -> list[str]:
    """A few commands as typed at a prompt, some followed by output lines."""
    fake, rng = ctx.fake, ctx.rng
    prompt = rng.choice(("$ ", "% ", "# ", f"{fake.user_name()}@{fake.word()}:~$ "))
    lines = []
    for _ in range(rng.randint(1, 4)):
        lines.append(prompt + _command(ctx))
        for _ in range(rng.choice((0, 0, 1, 2, 4))):
            when = moment(fake, -8 * YEAR, 0).strftime("%b %d %H:%M")
            lines.append(
                rng.choice(
                    (
                        f"-rw-r--r-- 1 {fake.user_name()} staff {rng.randint(90, 99999):>6} "
                        f"{when} {fake.file_name()}",
                        f"{rng.choice(('error', 'warning', 'note'))}: {ctx.sentences(1, 12)[0]}",
                        f"{when} {fake.hostname()} {fake.word()}[{rng.randint(100, 9999)}]: "
                        f"{fake.sentence(6)}",
                    )
                )
            )
    return [("    " if ctx.chance(0.5) else "") + x for x in lines]


def _patch(ctx: Ctx, width: int) -> list[str]:
    """A unified diff of a text file: a hunk of context with a line or two changed."""
    fake, rng = ctx.fake, ctx.rng
    path = f"{fake.word()}/{fake.file_name()}"
    start = rng.randint(1, 400)
    context = _wrap(" ".join(ctx.sentences(3, 30)), width - 2)
    changed = rng.randrange(len(context))
    new = _wrap(ctx.sentences(1, 20)[0], width - 2)
    body = [" " + x for x in context[:changed]] + ["-" + context[changed]]
    body += ["+" + x for x in new] + [" " + x for x in context[changed + 1 :]]
    old_n, new_n = len(context), len(context) - 1 + len(new)
    return [f"--- a/{path}", f"+++ b/{path}", f"@@ -{start},{old_n} +{start},{new_n} @@", *body]


def _body(ctx: Ctx, words: int, width: int, greeting: str, signer: str) -> list[str]:
    lines = [greeting, ""] if greeting else []
    technical = ctx.chance(0.5)  # list posts quote commands, output and patches; office mail not
    for para in ctx.passage(words).paragraphs:
        if ctx.chance(0.12):  # a list of points, indented the way plain-text mail indents them
            lines += [x for s in ctx.sentences(3, 18) for x in _wrap(s, width - 4, "  * ")]
            lines.append("")
        lines += _wrap(para, width)
        lines.append("")
        if technical and ctx.chance(0.3):
            lines += (_patch(ctx, width) if ctx.chance(0.3) else _transcript(ctx)) + [""]
    lines += [ctx.rng.choice(("Regards,", "Thanks,", "Cheers,", "Best,", "--")), signer, ""]
    return lines


def _quoted(ctx: Ctx, author: str, width: int) -> list[str]:
    when = moment(ctx.fake, -8 * YEAR, 0).strftime("%a, %b %d, %Y at %H:%M")
    intro = ctx.rng.choice((f"On {when}, {author} wrote:", f"{author} wrote:", "Quoting you:"))
    lines = [intro]
    for para in ctx.passage(ctx.rng.randint(60, 260)).paragraphs:
        lines += _wrap(para, width - 2, "> ") + [">"]
    return lines + [""]


def _footer(ctx: Ctx, signer: str, list_name: str | None) -> list[str]:
    lines = []
    if ctx.chance(0.5):
        lines += ["-- ", signer, ctx.fake.job(), ctx.company(), ctx.fake.phone_number(), ""]
    if list_name:
        url = f"https://lists.{list_name.split('@')[-1]}/listinfo/{list_name.split('@')[0]}"
        lines += ["_" * 47, f"{list_name.split('@')[0]} mailing list", list_name, url]
    return lines


def mail_printout(ctx: Ctx) -> tuple[str, str]:
    """A long plain-text message (often a list post with quoted replies) printed in a
    fixed-width face; any of its pages is kept."""
    fake, rng = ctx.fake, ctx.rng
    sender, reader = fake.name(), fake.name()
    domain = fake.domain_name()
    list_name = f"{fake.word()}-{rng.choice(LIST_WORDS)}@{domain}" if ctx.chance(0.45) else None
    width = rng.choice((68, 72, 72, 76, 78))
    subject = ("Re: " if ctx.chance(0.5) else "") + ctx.passage(40).title
    to = list_name or _address(ctx, reader, fake.domain_name())
    head = _headers(ctx, _address(ctx, sender, domain), to, subject, list_name)
    greeting = rng.choice(("", f"Hi {reader.split()[0]},", "Hello all,", "Dear colleagues,"))
    text = _body(ctx, rng.randint(250, 1100), width, greeting, sender.split()[0])
    for _ in range(rng.choice((0, 1, 1, 2))):
        text += _quoted(ctx, _address(ctx, fake.name(), fake.domain_name()), width)
    text += _footer(ctx, sender, list_name)
    ctx.page = rng.choice(PAGE_CHOICES)
    bold = "font-weight: bold;" if ctx.chance(0.5) else ""
    top = (
        f"<pre class='top'>{esc(rng.choice(('Mail', 'Inbox', fake.user_name())))} — "
        f"{esc(subject)}</pre><hr>"
        if ctx.chance(0.35)
        else ""
    )
    html = (
        f"{top}<pre class='hdr'>{esc(chr(10).join(head))}</pre><pre>{esc(chr(10).join(text))}</pre>"
    )
    counter = rng.choice(
        ("", "'Page ' counter(page) ' of ' counter(pages)", "counter(page) '/' counter(pages)")
    )
    css = (
        f"html {{ font-family: '{ctx.theme.mono}'; font-size: {rng.choice((9, 9.5, 10, 10.5, 11))}"
        f"pt; line-height: {rng.choice((1.15, 1.2, 1.25, 1.3))}; }} pre {{ font-family: inherit;"
        f" white-space: pre-wrap; margin: 0; }} .hdr {{ {bold} margin-bottom: 1.2em; }}"
        f" .top {{ font-size: 0.9em; }} hr {{ border: 0; border-top: 0.6pt solid #888; }}"
    )
    if counter:
        css += f" @page {{ @bottom-center {{ content: {counter}; font-size: 8pt; }} }}"
    return html, css


MAIL = (mail_printout,)
