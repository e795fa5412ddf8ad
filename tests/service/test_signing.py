"""Signed values: only the shared key, for the same place, opens an envelope."""

from __future__ import annotations

import json

import pytest

from service.signing import Signer, UnverifiedError, unsigned_body

KEY = "k" * 16 + "0123456789abcdef"


def test_an_envelope_opens_only_with_its_key_and_purpose() -> None:
    signer = Signer(KEY)
    sealed = signer.seal("docexit:ocr:tesseract:page-a", '{"texts": []}')
    assert signer.open("docexit:ocr:tesseract:page-a", sealed) == '{"texts": []}'
    with pytest.raises(UnverifiedError) as moved:  # a valid entry copied onto another page
        signer.open("docexit:ocr:tesseract:page-b", sealed)
    assert moved.value.reason == "signature"
    with pytest.raises(UnverifiedError):
        Signer(KEY.upper()).open("docexit:ocr:tesseract:page-a", sealed)
    tampered = json.loads(sealed)
    tampered["body"] = '{"texts": ["lie"]}'
    with pytest.raises(UnverifiedError):
        signer.open("docexit:ocr:tesseract:page-a", json.dumps(tampered))
    assert unsigned_body(json.dumps(tampered)) == '{"texts": ["lie"]}'


@pytest.mark.parametrize("raw", ['{"version": 3}', "not json", '{"body": 1, "mac": "x"}', "[]"])
def test_anything_else_is_malformed(raw: str) -> None:
    with pytest.raises(UnverifiedError) as refused:
        Signer(KEY).open("docexit:config", raw)
    assert refused.value.reason == "malformed"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Signer("too-short")


def test_a_rotation_accepts_the_other_key_but_signs_with_its_own() -> None:
    old, new = "o" * 32, "n" * 32
    before = Signer(old).seal("docexit:config", "{}")
    rotating = Signer(new, also_accept=(old,))
    assert rotating.open("docexit:config", before) == "{}"  # the old key's values still count
    assert Signer(old, also_accept=(new,)).open("x", rotating.seal("x", "1")) == "1"
    with pytest.raises(UnverifiedError):
        Signer(old).open("x", rotating.seal("x", "1"))  # sealed with the new key alone
