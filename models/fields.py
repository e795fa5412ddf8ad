"""Key fields as the decoder's text (models.decoder): one class's fields, in a fixed order, as
`key : value` pairs separated by `|`, in the encoder's own WordPiece vocabulary. The keys and
separators are said from a fixed vocabulary; a value is copied off the page as the tokens the
encoder saw (Target records where each value lies in the target). BOS is [CLS], EOS [SEP].

The vocabulary is uncased (all-MiniLM-L6-v2): values are compared after the same normalisation
(lower case, accents stripped, WordPiece's spacing around punctuation), which is what
`normalise` gives. Field exact match and character F1 are defined here for every report."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.data.families import REQUIRED_FIELDS
from models.inputs import tokenizer

SEPARATOR = "|"
KEY_VALUE = ":"


def field_keys(label: str) -> tuple[str, ...]:
    """The fields the decoder generates for a class, in order (none: classes without fields)."""
    return REQUIRED_FIELDS.get(label, ())


def normalise(value: str) -> str:
    """A value as the uncased WordPiece vocabulary can spell it, single-spaced."""
    tok = tokenizer()
    text = str(tok.decode(tok.encode(value, add_special_tokens=False)))
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Special:
    pad: int
    bos: int
    eos: int


def specials() -> Special:
    tok = tokenizer()
    return Special(tok.pad_token_id, tok.cls_token_id, tok.sep_token_id)


@functools.cache
def fixed_vocabulary() -> tuple[int, ...]:
    """Token ids the decoder says rather than copies: every class's field keys, the separators
    and EOS. The rest of what it says is copied from the page."""
    tok = tokenizer()
    keys = {k.replace("_", " ") for keys in REQUIRED_FIELDS.values() for k in keys}
    ids = {specials().eos}
    for text in (*keys, SEPARATOR, KEY_VALUE):
        ids.update(tok.encode(text, add_special_tokens=False))
    return tuple(sorted(ids))


def target_text(label: str, fields: Mapping[str, str]) -> str:
    """`key : value | key : value` over the class's fields present on the page."""
    pairs = [
        f"{k.replace('_', ' ')} {KEY_VALUE} {fields[k]}" for k in field_keys(label) if fields.get(k)
    ]
    return f" {SEPARATOR} ".join(pairs)


@dataclass(frozen=True)
class Target:
    ids: list[int]  # BOS, target_text's tokens, EOS
    values: list[tuple[int, list[int]]]  # each value: where its tokens start in ids, and they


def encode_target(label: str, fields: Mapping[str, str], max_length: int) -> Target:
    """BOS, the target's tokens, EOS; cut to max_length (EOS kept). Built a pair at a time,
    which WordPiece spells exactly as the whole of target_text (whitespace splits words)."""
    tok, s = tokenizer(), specials()

    def spell(text: str) -> list[int]:
        return list(tok.encode(text, add_special_tokens=False))

    ids, values = [s.bos], []
    for key in (k for k in field_keys(label) if fields.get(k)):
        if len(ids) > 1:
            ids += spell(SEPARATOR)
        ids += spell(f"{key.replace('_', ' ')} {KEY_VALUE}")
        values.append((len(ids), spell(fields[key])))
        ids += values[-1][1]
    ids = [*ids[: max_length - 1], s.eos]
    return Target(ids, [(at, v) for at, v in values if at < len(ids) - 1])


def decode_fields(ids: Sequence[int]) -> dict[str, str]:
    """Generated tokens (no BOS, no EOS) back to {key: value}; malformed pairs are dropped and
    a key said twice keeps its first value."""
    text = str(tokenizer().decode(list(ids), skip_special_tokens=True))
    out: dict[str, str] = {}
    for pair in text.split(SEPARATOR):
        key, sep, value = pair.partition(KEY_VALUE)
        key = re.sub(r"\s+", "_", key.strip())
        if sep and key and key not in out:
            out[key] = re.sub(r"\s+", " ", value).strip()
    return out


def char_f1(predicted: str, truth: str) -> float:
    """Character-level F1 over the multisets of characters (spaces ignored)."""
    p, t = Counter(predicted.replace(" ", "")), Counter(truth.replace(" ", ""))
    if not p and not t:
        return 1.0
    common = sum((p & t).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class FieldScore:
    key: str
    exact: bool
    f1: float


def score(label: str, predicted: Mapping[str, str], truth: Mapping[str, str]) -> list[FieldScore]:
    """One score per field the class has and the page carries (a missing prediction scores 0)."""
    out = []
    for key in field_keys(label):
        if not truth.get(key):
            continue
        want, got = normalise(truth[key]), predicted.get(key, "")
        out.append(FieldScore(key, got == want, char_f1(got, want)))
    return out
