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
