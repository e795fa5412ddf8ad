"""Key fields as decoder text (models.fields): the round trip, the scores, the page vocabulary;
and the decoder restricted to that vocabulary."""

from __future__ import annotations

import torch

from models.decoder import DecoderConfig, MultiExitDecoder
from models.decoding import FullDepth, generate
from models.fields import (
    char_f1,
    decode_fields,
    encode_target,
    field_keys,
    fixed_vocabulary,
    normalise,
    page_vocabulary,
    score,
    specials,
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
    ids = encode_target("invoice", INVOICE, 96)
    s = specials()
    assert ids[0] == s.bos and ids[-1] == s.eos
    back = decode_fields(ids[1:-1])
    assert list(back) == list(field_keys("invoice"))
    assert back == {k: normalise(INVOICE[k]) for k in field_keys("invoice")}
    assert back["vendor"] == "muller & sohne gmbh"  # uncased, accents stripped
    assert all(f.exact and f.f1 == 1.0 for f in score("invoice", back, INVOICE))


def test_a_long_target_is_cut_but_keeps_eos() -> None:
    ids = encode_target("invoice", INVOICE, 8)
    assert len(ids) == 8 and ids[-1] == specials().eos


def test_scores_count_missing_fields_and_partial_values() -> None:
    predicted = {"invoice_number": "inv - 2023 / 0042", "date": "march 4, 2024"}
    scores = {s.key: s for s in score("invoice", predicted, INVOICE)}
    assert set(scores) == set(field_keys("invoice"))
    assert scores["invoice_number"].exact and not scores["date"].exact
    assert 0.8 < scores["date"].f1 < 1.0
    assert scores["total"].f1 == 0.0 and not scores["total"].exact
    assert char_f1("", "") == 1.0 and char_f1("abc", "") == 0.0
    assert decode_fields(tokenizer().encode("no pairs here", add_special_tokens=False)) == {}


def test_the_page_vocabulary_is_its_words_and_the_keys() -> None:
    tok, s = tokenizer(), specials()
    page = tok.encode("Invoice No.: 37134 TOTAL £11,830.59")
    vocab = page_vocabulary(page)
    assert vocab == sorted(vocab) and s.bos not in vocab and s.pad not in vocab
    assert s.eos in vocab and set(fixed_vocabulary()) <= set(vocab)
    target = encode_target("invoice", {"invoice_number": "37134"}, 32)
    assert set(target[1:]) <= set(vocab)  # a value read off the page is sayable


def test_a_restricted_decoder_says_only_the_page_vocabulary() -> None:
    torch.manual_seed(0)
    c = DecoderConfig(vocab_size=50, hidden_size=16, num_layers=2, num_heads=2,
                      intermediate_size=32, adapter_size=4, max_length=12, dropout=0.0,
                      eos_id=-1)  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    states, mask = torch.randn(1, 5, 16), torch.ones(1, 5, dtype=torch.bool)
    vocab = torch.tensor([3, 7, 11, 40])
    out = generate(decoder, states, mask, FullDepth(), vocab=vocab)
    assert out.tokens and set(out.tokens) <= {3, 7, 11, 40}
    ids = torch.tensor([[c.bos_id, *out.tokens[:-1]]])
    with torch.no_grad():
        full, _ = decoder(states, mask, ids)
        allowed = torch.tensor([[True, True, False, True]])
        cut, _ = decoder(states, mask, ids, vocab=vocab, allowed=allowed)
    torch.testing.assert_close(cut[..., [0, 1, 3]], full[..., vocab[[0, 1, 3]]])
    assert torch.isinf(cut[..., 2]).all()
