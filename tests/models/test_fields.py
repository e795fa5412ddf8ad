"""Key fields as decoder text (models.fields): the round trip, the scores; and the pointer's
training data (models.extract_data): the memory's layout, where values are copied from, and
each step's gold entries."""

from __future__ import annotations

import torch

from models.extract_data import Pair, collate, copy_sources, page_memory
from models.fields import (
    char_f1,
    decode_fields,
    encode_target,
    field_keys,
    fixed_vocabulary,
    normalise,
    score,
    specials,
    target_text,
)
from models.inputs import tokenizer

INVOICE = {
    "invoice_number": "INV-2023/0042",
    "date": "March 3, 2024",
    "total": "£1,234.50",
    "vendor": "Müller & Söhne GmbH",
    "po_number": "PO-1",  # not one of the class's fields: not generated
}


def test_a_target_round_trips_to_the_normalised_fields() -> None:
    target = encode_target("invoice", INVOICE, 96)
    ids, s = target.ids, specials()
    spelled = tokenizer().encode(target_text("invoice", INVOICE), add_special_tokens=False)
    assert ids[1:-1] == spelled  # a pair at a time spells what the whole text spells
    assert ids[0] == s.bos and ids[-1] == s.eos
    back = decode_fields(ids[1:-1])
    assert list(back) == list(field_keys("invoice"))
    assert back == {k: normalise(INVOICE[k]) for k in field_keys("invoice")}
    assert back["vendor"] == "muller & sohne gmbh"  # uncased, accents stripped
    assert all(f.exact and f.f1 == 1.0 for f in score("invoice", back, INVOICE))


def test_a_long_target_is_cut_but_keeps_eos() -> None:
    target = encode_target("invoice", INVOICE, 8)
    assert len(target.ids) == 8 and target.ids[-1] == specials().eos
    key = tokenizer().encode("invoice number :", add_special_tokens=False)
    assert [at for at, _ in target.values] == [1 + len(key)]  # only the first value fits


def test_scores_count_missing_fields_and_partial_values() -> None:
    predicted = {"invoice_number": "inv - 2023 / 0042", "date": "march 4, 2024"}
    scores = {s.key: s for s in score("invoice", predicted, INVOICE)}
    assert set(scores) == set(field_keys("invoice"))
    assert scores["invoice_number"].exact and not scores["date"].exact
    assert 0.8 < scores["date"].f1 < 1.0
    assert scores["total"].f1 == 0.0 and not scores["total"].exact
    assert char_f1("", "") == 1.0 and char_f1("abc", "") == 0.0
    assert decode_fields(tokenizer().encode("no pairs here", add_special_tokens=False)) == {}


def test_the_memory_puts_the_pages_words_first_in_reading_order() -> None:
    tok = tokenizer()
    page = torch.tensor(tok.encode("Invoice No.: 37134 TOTAL 11,830.59 thanks"))
    head, images = 5, 3  # the encoder read [CLS] and 3 words' tokens and [SEP]
    hidden = torch.arange(head + images, dtype=torch.float)[:, None].expand(-1, 2)
    tail = 100 + torch.arange(len(page) - head, dtype=torch.float)[:, None].expand(-1, 2)
    memory, copy = page_memory(hidden, head, tail, page)
    assert copy.tolist() == [*page[1:-1].tolist(), -1, -1, -1, -1, -1]
    # the head's words, the tail, then [CLS], [SEP] and the image tokens
    assert memory[:, 0].tolist() == [1, 2, 3, *tail[:, 0].tolist(), 0, 4, 5, 6, 7]


def test_values_are_copied_from_where_the_page_spells_them_whole() -> None:
    tok, s = tokenizer(), specials()
    words = tok.encode("Date 37134 Invoice No. 37134 total $5.00", add_special_tokens=False)
    copy = [*words, -1, -1]
    fields = {"invoice_number": "37134", "total": "$5.00", "vendor": "Nowhere Ltd"}
    target = encode_target("invoice", fields, 64)
    sources = copy_sources(target, copy)
    at_number, number = target.values[0]
    assert sources[at_number] == words.index(number[0])  # the first place it is spelled
    at_total, total = target.values[1]
    start = next(j for j in range(len(words)) if words[j : j + len(total)] == total)
    assert sources[at_total : at_total + len(total)] == list(range(start, start + len(total)))
    at_vendor, vendor = target.values[2]
    assert sources[at_vendor : at_vendor + len(vendor)] == [-1] * len(vendor)  # not on the page
    assert sources[0] == -1 and sources[-1] == -1  # BOS, EOS

    fixed = list(fixed_vocabulary())
    pair = Pair("p.png", "invoice", fields, torch.zeros(len(copy), 4, dtype=torch.half),
                torch.tensor(copy), target.ids, sources)  # fmt: skip
    b = collate([pair], s.pad, fixed)
    f = len(fixed)
    assert b.gold.shape == (1, len(target.ids) - 1, f + len(copy))
    # Every step has a gold entry but the vendor's, which nothing can say: they cost nothing.
    silent = [i for i in range(len(target.ids) - 1) if not b.gold[0, i].any()]
    assert silent == list(range(at_vendor - 1, at_vendor - 1 + len(vendor)))
    step = at_total - 1  # the step that says the total's first token
    assert b.gold[0, step].nonzero().flatten().tolist() == [f + start]
    eos = len(target.ids) - 2
    assert b.gold[0, eos].nonzero().flatten().tolist() == [fixed.index(s.eos)]
    key = 0  # "invoice": a key, said though the page spells it too
    assert b.gold[0, key].nonzero().flatten().tolist() == [fixed.index(target.ids[1])]
    assert b.sources[0].tolist() == sources[:-1]
