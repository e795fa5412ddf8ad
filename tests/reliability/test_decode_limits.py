"""service.decode on its own, fast: the corpus cases that only decoding decides answer their
status in-process, and the page limit (DOCEXIT_MAX_PAGES) counts PDF pages and TIFF frames
exactly at its edge, and a frame chain that loops is refused rather than followed."""

from __future__ import annotations

import pytest

from service.decode import decode, tiff_frames
from service.errors import ProblemError
from tests.reliability.badinputs import LIMITS, Case, cases, pdf_of, tiff_of


def _decided_by_decoding(case: Case) -> bool:
    """Cases whose status the bytes (and a page number) decide, not the form or the headers."""
    return (
        case.data is not None
        and set(case.fields) <= {"page"}
        and all(isinstance(v, str) and v.isdigit() for v in case.fields.values())
        and not case.headers
        and case.file_field == "file"
    )


def _status(data: bytes, page: int = 0, max_pages: int = LIMITS["DOCEXIT_MAX_PAGES"]) -> int:
    try:
        decode(
            data, page, LIMITS["DOCEXIT_MAX_UPLOAD_BYTES"], LIMITS["DOCEXIT_MAX_PIXELS"], max_pages
        )
    except ProblemError as exc:
        assert str(exc.detail).strip()
        return exc.status_code
    return 200


def test_decoding_alone_gives_each_file_case_its_status() -> None:
    decided = [c for c in cases() if _decided_by_decoding(c)]
    assert len(decided) >= 50
    wrong = {
        c.name: (got, c.status)
        for c in decided
        if (got := _status(c.data or b"", int(c.fields.get("page", "0")))) != c.status
    }
    assert not wrong, f"(got, expected): {wrong}"


@pytest.mark.parametrize("kind", ["pdf", "tiff"])
def test_the_page_limit_is_exact(kind: str) -> None:
    def doc(n: int) -> bytes:
        return pdf_of(n) if kind == "pdf" else tiff_of([(8, 8)] * n)

    assert _status(doc(20), page=19, max_pages=20) == 200
    assert _status(doc(21), max_pages=20) == 413


def test_tiff_frames_are_counted_without_following_loops() -> None:
    assert tiff_frames(tiff_of([(1, 1)] * 7), max_pages=10) == 7
    with pytest.raises(ProblemError) as err:
        tiff_frames(tiff_of([(1, 1)] * 3, link=lambda i, nxt: nxt if i < 2 else 8 + 64), 10)
    assert err.value.status_code == 422 and "loops" in str(err.value.detail)
    with pytest.raises(ProblemError) as err:
        tiff_frames(tiff_of([(1, 1)] * 100_000), max_pages=10)
    assert err.value.status_code == 413 and "more than 10 frames" in str(err.value.detail)
