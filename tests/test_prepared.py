"""One parse per upload: what `prepare_document` returns is what `add_prepared` stores."""

from __future__ import annotations

from acuerdo.index import Library

TEXT = (
    "Plan de reforestación\n\nLos gobiernos plantarán un millón de árboles en la cuenca del río "
    "durante los próximos cinco años, con viveros comunitarios en cada municipio."
)


def test_prepared_document_is_stored_as_prepared(library: Library) -> None:
    prepared = library.prepare_document("plan.txt", TEXT.encode(), title="Mi plan")
    assert prepared.source == TEXT.encode()
    assert library.document_with_content(prepared.sha256) is None  # preparing stores nothing
    result = library.add_prepared(prepared)
    assert result.created and result.document.title == "Mi plan"
    assert result.document.passages == len(prepared.chunks)
    stored = library.document_with_content(prepared.sha256)
    assert stored is not None and stored.id == result.document.id
    again = library.add_prepared(prepared)
    assert not again.created and again.document.id == result.document.id


def test_a_given_title_is_cleaned_like_a_files_own(library: Library) -> None:
    # A caption or --title may carry what no file title keeps: NUL (which PostgreSQL refuses in
    # text), other control characters, bidi overrides, zero-width characters, line breaks.
    given = "Mi\x00 plan\u202e de\u200b\nreforesta\x07ción\u2069"
    result = library.add_document("plan.txt", TEXT.encode(), title=given)
    assert result.document.title == "Mi plan de reforestación"
    assert [d.title for d in library.documents_titled("Mi plan de reforestación")] == [
        "Mi plan de reforestación"
    ]
