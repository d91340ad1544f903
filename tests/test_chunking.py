from __future__ import annotations

from index.chunking import MAX_PASSAGE_CHARS, chunk_text, sentence_spans, split_paragraphs
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
    chunks = chunk_text("Intro.\n\n" + paragraph)
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
