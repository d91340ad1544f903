"""Topics are matched only against what is new in a document, with the confidence that answers
questions (real e5, real calibration)."""

from __future__ import annotations

import pytest

from acuerdo.index import Library
from acuerdo.index.embedding import E5SmallEmbedder
from tests.test_follow_bot import ARMS, ARMS_DOC

pytestmark = pytest.mark.slow

ARMS_PARAGRAPH = ARMS_DOC.split("\n\n")[1]
RAIN = "La temporada de lluvias comenzará en junio, según el servicio meteorológico."


def test_passages_already_in_the_library_never_notify_again(
    settings_for, e5: E5SmallEmbedder
) -> None:  # type: ignore[no-untyped-def]
    library = Library.open(settings_for(), embedder=e5)
    library.subscriptions.follow(501, ARMS)
    first = library.add_document("frontera.txt", ARMS_DOC.encode(), title="Frontera")
    assert first.notifications == 1  # the arms paragraph is new and matches confidently

    # Another document repeating that paragraph, with only an unrelated one new: nothing.
    again = f"{ARMS_PARAGRAPH}\n\n{RAIN}\n"
    second = library.add_document("otro.txt", again.encode(), title="Otro")
    assert second.created and second.notifications == 0

    # The first document replaced by a version whose only new paragraph is unrelated: nothing.
    replaced = library.add_document(
        "frontera-v2.txt",
        f"{ARMS_DOC}\nLa próxima sesión será en la capital.\n".encode(),
        title="Frontera",
        replace_id=first.document.id,
    )
    assert replaced.notifications == 0
    library.close()


def test_a_lone_new_passage_is_judged_against_the_whole_library_not_alone(
    settings_for, e5: E5SmallEmbedder
) -> None:  # type: ignore[no-untyped-def]
    """The only new passage of a replaced document is unrelated and long enough to stand alone:
    with nothing else allowed to compete it must not look like a confident match."""
    library = Library.open(settings_for(), embedder=e5)
    first = library.add_document("frontera.txt", ARMS_DOC.encode(), title="Frontera")
    library.subscriptions.follow(502, ARMS)
    unrelated = (
        "La próxima sesión plenaria se celebrará en la capital durante la primera semana "
        "del mes de marzo, con la asistencia de ambas delegaciones."
    )
    replaced = library.add_document(
        "frontera-v2.txt",
        f"{ARMS_DOC}\n{unrelated}\n".encode(),
        title="Frontera",
        replace_id=first.document.id,
    )
    assert replaced.notifications == 0
    # The same topic still finds a new passage that speaks about it.
    related = library.add_document(
        "armas.txt",
        (
            "Las autoridades aduaneras decomisaron cientos de armas de fuego introducidas "
            "ilegalmente por la frontera norte durante el último trimestre del año."
        ).encode(),
        title="Aduanas",
    )
    assert related.notifications == 1
    library.close()
