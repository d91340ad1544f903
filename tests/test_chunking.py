from __future__ import annotations

from acuerdo.index.blocks import Block, guess_blocks
from acuerdo.index.chunking import (
    MAX_GROUP_CHARS,
    MAX_PASSAGE_CHARS,
    chunk_blocks,
    chunk_text,
    sentence_spans,
    split_paragraphs,
)
from tests.conftest import SEEDS


def test_one_passage_per_paragraph_verbatim() -> None:
    text = (SEEDS / "000_b49162d02398fd27.txt").read_text(encoding="utf-8")
    chunks = chunk_text(text)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    assert [c.text for c in chunks] == paragraphs
    assert [c.ordinal for c in chunks] == list(range(len(paragraphs)))
    assert [c.paragraph for c in chunks] == list(range(1, len(paragraphs) + 1))


def test_blank_lines_with_spaces_and_crlf_separate_paragraphs() -> None:
    assert split_paragraphs("uno\r\n  \r\ndos\n\n\n\ntres\nsigue") == ["uno", "dos", "tres\nsigue"]


def test_long_paragraph_is_cut_at_sentence_boundaries() -> None:
    sentences = [
        f"Esta es la oración número {i}, que habla del acuerdo de seguridad." for i in range(40)
    ]
    paragraph = " ".join(sentences)
    intro = "Este párrafo de introducción presenta el acuerdo de seguridad firmado ayer."
    chunks = chunk_text(intro + "\n\n" + paragraph)
    long_parts = [c for c in chunks if c.paragraph == 2]
    assert len(long_parts) > 1
    assert all(len(c.text) <= MAX_PASSAGE_CHARS for c in long_parts)
    assert all(c.text.endswith(".") for c in long_parts)
    assert " ".join(c.text for c in long_parts) == paragraph  # nothing lost or reworded


def test_sentence_spans_respect_abbreviations_and_quotes() -> None:
    text = (
        "U.S. Secretary Marco Rubio llegó. El Sr. Pérez habló con la Dra. Ruiz. "
        "“Va a ser cordial”, dijo. ¿Y después? Nada."
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "U.S. Secretary Marco Rubio llegó.",
        "El Sr. Pérez habló con la Dra. Ruiz.",
        "“Va a ser cordial”, dijo.",
        "¿Y después?",
        "Nada.",
    ]


def test_a_sentence_longer_than_the_limit_is_cut_at_a_space() -> None:
    paragraph = "palabra " * 300
    chunks = chunk_text(paragraph)
    assert all(len(c.text) <= MAX_PASSAGE_CHARS for c in chunks)
    assert " ".join(c.text for c in chunks) == paragraph.strip()


def test_no_passage_without_words_and_headings_are_never_passages() -> None:
    blocks = [
        Block("heading", "Capítulo 1", 1),
        Block("paragraph", "…"),
        Block("paragraph", "—"),
        Block("paragraph", "12"),
        Block("paragraph", "1."),
        Block("paragraph", "El primer compromiso es compartir información."),
        Block("heading", "3.2 ¿Qué contiene el anexo?", 2),
        Block("heading", "Final sin texto", 1),
    ]
    chunks = chunk_blocks(blocks)
    assert [(c.text, c.heading, c.paragraph) for c in chunks] == [
        ("1. El primer compromiso es compartir información.", "Capítulo 1", 1)
    ]


def test_list_items_and_rows_stay_with_their_lead_in_up_to_the_group_limit() -> None:
    items = [Block("item", f"• Punto número {i} del acuerdo de cooperación.") for i in range(60)]
    closing = "Con estos puntos concluye la lista de compromisos del acuerdo."
    blocks = [Block("paragraph", "El acuerdo contiene:"), *items, Block("paragraph", closing)]
    chunks = chunk_blocks(blocks)
    assert chunks[0].text.startswith("El acuerdo contiene:\n• Punto número 0")
    assert all(len(c.text) <= MAX_GROUP_CHARS for c in chunks)
    listed = "\n".join(c.text for c in chunks[:-1])
    assert listed == "\n".join(["El acuerdo contiene:", *(b.text for b in items)])  # verbatim
    assert chunks[-1].text == closing
    assert len({c.paragraph for c in chunks}) == len(chunks)


def test_plain_text_headings_are_guessed_only_when_unambiguous() -> None:
    text = (SEEDS / "000_b49162d02398fd27.txt").read_text(encoding="utf-8")
    assert all(block.kind == "paragraph" for block in guess_blocks(text))  # the seed: none
    guessed = guess_blocks("Requisitos\n\nHace falta un pasaporte.\n\n- uno\n\nNota final")
    assert [(b.kind, b.level) for b in guessed] == [
        ("heading", 1),
        ("paragraph", 0),
        ("item", 0),
        ("paragraph", 0),  # a last short line introduces nothing
    ]


def test_ornaments_made_of_letters_are_not_passages() -> None:
    text = "Primer párrafo del comunicado.\n\n--oo0oo--\n\nxxx\n\nIII\n\nFin: ok."
    # Neither sentence stands alone, so the two share one passage; the ornaments are gone.
    assert [c.text for c in chunk_text(text)] == ["Primer párrafo del comunicado.\nFin: ok."]
