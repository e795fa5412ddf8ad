"""The page grammar: each class has layout families, each family a short sentence of blocks.

Token syntax: `block`, `block:arg`, `a|b` (pick one), `token?` (present half the time).
Blocks come from the shared vocabulary in blocks_*.py, so classes differ by what they combine,
not by private drawing code; confusable classes (letter/memo/email, report/publication, ...)
deliberately share blocks."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from models.data import blocks_docs as docs
from models.data import blocks_forms as forms
from models.data import blocks_genre as genre
from models.data import blocks_graphic as graphic
from models.data import blocks_press as press
from models.data import blocks_text as text
from models.data.layout import Ctx, Flow

Block = Callable[[Ctx, Flow, str], None]


def _blocks() -> dict[str, Block]:
    """Every public `f(ctx, flow, arg)` of the block modules, by name."""
    found: dict[str, Block] = {}
    for module in (text, graphic, genre, press, docs, forms):
        for name, fn in vars(module).items():
            if (
                inspect.isfunction(fn)
                and fn.__module__ == module.__name__
                and not name.startswith("_")
                and list(inspect.signature(fn).parameters) == ["ctx", "flow", "arg"]
            ):
                assert name not in found, f"block {name!r} defined twice"
                found[name] = fn
    return found


BLOCKS: dict[str, Block] = _blocks()
BLOCKS["gap"] = lambda ctx, flow, arg: flow.gap(ctx.theme.size * float(arg or 3))

FAMILIES: dict[str, dict[str, str]] = {
    "letter": {
        "centered_letterhead": "letterhead:center date:right address subject? salutation body closing signature cc? footer?",
        "left_letterhead": "letterhead:left date:left address subject? salutation body closing signature cc?",
        "right_letterhead": "letterhead:right date:left address salutation body closing signature",
        "window_envelope": "letterhead:left address:window date:right subject salutation body closing signature footer",
        "personal_typed": "sender_address:right date:right address salutation body closing signature",
        "law_firm_sidebar": "letterhead:center sidebar date:left address subject? salutation body closing signature",
        "short_note": "letterhead:center date:left address salutation body:1 closing signature footer?",
        "long_dense": "letterhead:left? date:left address subject salutation body:6 closing signature cc",
        "continuation": "contd body:5 closing signature:typed cc?",
    },
    "memo": {
        "classic": "memo_header body cc?",
        "letterhead_memo": "letterhead:left memo_header body bullets? cc?",
        "bare_lines": "memo_header:bare body footer?",
        "with_table": "memo_header body:1 table:budget body:1",
        "bulleted": "memo_header body:1 bullets body:1 cc",
        "logo_memo": "logo memo_header body signature:typed?",
        "short": "memo_header body:1 signature:typed?",
        "sectioned": "memo_header heading body:2 heading body:2",
        "confidential": "header_note memo_header body cc?",
    },
    "email": {
        "outlook": "email_header:outlook body closing? signature:typed?",
        "plain": "email_header body",
        "raw_headers": "email_header:raw body",
        "reply": "email_header body:1 email_header:quoted quote",
        "printed_banner": "banner email_header body",
        "thread": "banner email_header:outlook body:1 email_header:quoted body:2",
        "with_list": "email_header body:1 bullets body:1",
        "signature_block": "email_header body closing signature:typed footer",
    },
    "handwritten": {
        "note": "hand_lines:5",
        "dated_letter": "hand_date hand_lines:3 hand_lines:4 hand_sign",
        "lined_paper": "ruled_paper hand_date? hand_lines:8",
        "notepad": "letterhead:center hand_lines:3 hand_sign?",
        "sparse": "gap:6 hand_lines:1",
        "two_notes": "hand_lines:2 gap:4 hand_lines:2 hand_sign",
        "annotated_print": "body:1 gap:2 hand_lines:4",
        "long_hand": "hand_date hand_lines:8 hand_sign",
    },
    "advertisement": {
        "hero_photo": "ad_headline photo:1.0 body:1 price? warning_box?",
        "photo_top": "photo:0.9 ad_headline body:1 logo",
        "text_heavy": "ad_headline body:3 price logo?",
        "coupon": "ad_headline photo:0.6 coupon",
        "image_only": "photo:1.0 photo:1.0",
        "advertorial": "ad_headline columns:2",
        "big_type": "gap:2 ad_headline ad_headline price",
        "tobacco_warning": "photo:1.0 ad_headline warning_box",
    },
    "scientific_report": {
        "cover": "logo? report_cover",
        "body_page": "running_head heading body heading body figure?",
        "with_table": "running_head heading body table:generic body",
        "memo_report": "title:left kv:report_number+date+organization heading body",
        "figure_page": "running_head figure figure body:1",
        "contents": "running_head contents",
        "summary_page": "running_head heading bullets heading body",
        "appendix": "running_head heading table:generic table:generic",
    },
    "scientific_publication": {
        "two_column_first": "journal_head title authors abstract columns:2",
        "one_column_first": "journal_head title authors abstract body heading body",
        "two_column_body": "journal_head columns:2",
        "preprint": "title authors abstract heading body",
        "three_column": "journal_head title:left authors:left columns:3",
        "figure_top": "journal_head figure columns:2",
        "references": "journal_head heading:References references",
        "table_page": "journal_head table:generic columns:2",
    },
    "specification": {
        "table_spec": "spec_header table:spec body:1",
        "numbered_clauses": "spec_header clauses",
        "plain_header": "spec_header:plain table:spec approvals?",
        "drawing": "spec_header figure table:spec",
        "clauses_and_table": "spec_header clauses:2 table:spec",
        "material_list": "logo? spec_header bullets table:spec",
        "signoff": "spec_header table:spec approvals",
        "typed_sheet": "spec_header:plain clauses:3 approvals?",
    },
    "file_folder": {
        "tab_top": "folder_tab",
        "tab_low": "folder_tab:low",
        "tab_barcode": "folder_tab barcode",
        "hand_label": "folder_tab hand_lines:1",
        "index_sheet": "folder_tab file_index",
        "two_tabs": "folder_tab folder_tab:low",
        "tab_notes": "folder_tab gap:8 hand_lines:2",
        "tab_stamped": "folder_tab gap:10 barcode:right",
    },
    "news_article": {
        "front_page": "masthead headline_block photo? columns:3",
        "clipping": "source_line headline_block columns:2",
        "single_column": "source_line headline_block body:6",
        "inside_page": "masthead headline_block columns:2",
        "photo_story": "source_line headline_block photo:1.0 columns:2",
        "newsletter": "masthead headline_block body:2 headline_block body:2",
        "briefs": "masthead headline_block body:1 headline_block body:1 headline_block body:1",
        "column_with_figure": "source_line headline_block figure columns:2",
    },
    "budget": {
        "single_table": "title:left kv:organization+period table:budget",
        "letterhead_budget": "letterhead:center kv:organization+period table:budget body:1",
        "two_tables": "kv:organization+period table:budget table:budget",
        "chart_and_table": "title kv:organization+period chart:bar table:budget",
        "proposal": "title kv:organization+period+prepared_by body:1 table:budget",
        "with_notes": "kv:organization+period+account table:budget bullets",
        "memo_budget": "memo_header:bare kv:organization+period table:budget",
        "summary_footer": "title:left kv:organization+period table:budget footer",
    },
    "invoice": {
        "classic": "letterhead:left invoice_head bill_to table:invoice terms",
        "logo_boxed": "logo invoice_head bill_to table:invoice",
        "typed": "sender_address:left invoice_head table:invoice terms?",
        "remittance": "letterhead:center invoice_head table:invoice rule terms barcode",
        "statement": "letterhead:right invoice_head:STATEMENT bill_to table:invoice",
        "centered": "letterhead:center bill_to invoice_head table:invoice",
        "short": "invoice_head bill_to table:invoice",
        "with_note": "letterhead:left invoice_head table:invoice body:1 terms",
    },
    "presentation": {
        "title_slide": "gap:4 title presenter",
        "bullets": "slide_title bullets",
        "chart": "slide_title chart",
        "table": "slide_title table:budget",
        "photo": "slide_title photo:0.7",
        "section_divider": "gap:8 title",
        "handout": "handout:3",
        "bullets_and_chart": "slide_title bullets:2 chart",
    },
    "questionnaire": {
        "tick_survey": "q_header tick_boxes",
        "rating_grid": "q_header rating_grid",
        "mixed": "q_header tick_boxes:3 open_question",
        "interview": "q_header:left open_question open_question open_question",
        "letterhead_survey": "letterhead:center q_header tick_boxes",
        "screener": "q_header fields:3 tick_boxes:4",
        "grid_and_ticks": "q_header rating_grid tick_boxes:2",
        "consent": "q_header body:1 tick_boxes:2 fields:2",
    },
    "form": {
        "cell_grid": "form_header boxes_grid",
        "lines": "form_header fields",
        "fields_and_ticks": "form_header fields:6 tick_boxes:2",
        "application": "letterhead:left form_header fields body:1 fields:2",
        "order_form": "form_header fields:4 table:invoice",
        "government": "barcode form_header boxes_grid fields:3",
        "checklist": "form_header tick_boxes fields:2",
        "receipt": "form_header kv:date+account fields:3 signature",
    },
    "resume": {
        "classic": "resume_header resume_section:Experience resume_section:Education resume_section:Skills",
        "objective": "resume_header heading:Objective body:1 resume_section:Experience resume_section:Education",
        "skills_first": "resume_header resume_section:Skills resume_section:Experience",
        "academic_cv": "resume_header resume_section:Education heading:Publications references",
        "narrative": "resume_header body:2 resume_section:Experience",
        "education_first": "resume_header resume_section:Education resume_section:Experience",
        "experience_only": "resume_header resume_section:Experience resume_section:Experience",
        "personal_data": "resume_header kv:date resume_section:Experience resume_section:Skills",
    },
}

GENRES: dict[str, str] = {
    "scientific_report": "science",
    "scientific_publication": "science",
    "news_article": "news",
    "specification": "spec",
    "resume": "resume",
    "advertisement": "ad",
    "handwritten": "business",
}

# Key fields every page of a class carries (the extraction task's targets), except on the
# sparse families below, which have by design almost nothing on them.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "letter": ("sender", "recipient", "date"),
    "form": ("form_title", "form_number"),
    "email": ("from", "to", "subject", "date"),
    "handwritten": (),
    "advertisement": ("brand", "product"),
    "scientific_report": ("title", "report_number", "date", "organization"),
    "scientific_publication": ("title", "authors"),
    "specification": ("title", "spec_number", "revision", "date"),
    "file_folder": ("label",),
    "news_article": ("headline", "publication", "date"),
    "budget": ("organization", "period", "total"),
    "invoice": ("invoice_number", "date", "total", "vendor"),
    "presentation": ("title",),
    "questionnaire": ("title", "organization"),
    "resume": ("name", "email"),
    "memo": ("to", "from", "subject", "date"),
}
SPARSE_FAMILIES = {("advertisement", "image_only")}


# Lines (of body text) to keep free for blocks still to come, so that closings, signatures,
# totals and warnings are not crowded off the page by the prose before them.
RESERVE_LINES: dict[str, int] = {
    "closing": 2,
    "signature": 5,
    "cc": 3,
    "hand_sign": 3,
    "terms": 3,
    "approvals": 7,
    "price": 5,
    "warning_box": 6,
    "coupon": 8,
    "table": 8,
    "fields": 6,
    "bill_to": 6,
    "invoice_head": 6,
    "quote": 4,
    "email_header": 6,
    "resume_section": 6,
    "footer": 0,
    "references": 6,
    "tick_boxes": 6,
    "open_question": 6,
    "presenter": 3,
}


def run(ctx: Ctx, flow: Flow, family: str) -> None:
    """Render one family's block sentence into the flow."""
    tokens = []
    for token in FAMILIES[ctx.label][family].split():
        if token.endswith("?"):
            if not ctx.chance(0.5):
                continue
            token = token[:-1]
        tokens.append(ctx.rng.choice(token.split("|")).partition(":"))
    bottom = flow.y1
    for i, (name, _, arg) in enumerate(tokens):
        reserve = sum(RESERVE_LINES.get(later, 0) for later, _, _ in tokens[i + 1 :])
        flow.y1 = max(flow.y + ctx.theme.size * 2, bottom - int(reserve * ctx.theme.size * 1.35))
        if flow.room > ctx.theme.size:
            BLOCKS[name](ctx, flow, arg)
        flow.y1 = bottom
