"""Documents and questions lose the same unseen characters, and escape sequences go whole."""

from __future__ import annotations

import pytest

from acuerdo.index.loaders import clean_text, load_bytes, safe_file_name
from acuerdo.index.question_text import clean_question

# Soft hyphen, ALM, zero-width space / non-joiner / joiner, LRM, RLM, bidi embeddings and
# overrides, word joiner, bidi isolates, BOM.
UNSEEN = (
    "\u00ad\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


@pytest.mark.parametrize("unseen", list(UNSEEN), ids=lambda c: f"U+{ord(c):04X}")
def test_a_word_split_by_an_unseen_character_is_one_word_in_documents_and_questions(
    unseen: str,
) -> None:
    word = f"fenta{unseen}nilo"
    assert clean_question(f"¿qué dijeron del {word}?") == "¿qué dijeron del fentanilo?"
    assert clean_text(f"El {word} cruza la frontera.") == "El fentanilo cruza la frontera."


@pytest.mark.parametrize(
    "sequence",
    [
        "\x1b[2J",
        "\x1b[1;31m",
        "\x9b0m",
        "\x1b]0;título\x07",
        "\x1b]8;;https://x\x1b\\",
        "\x1b(B",
        "\x1b7",
    ],
)
def test_escape_sequences_leave_nothing_behind_in_titles_text_and_file_names(
    sequence: str,
) -> None:
    source = f"# Acta{sequence} de la mesa\n\nLa comisión{sequence} revisó las metas.\n"
    loaded = load_bytes("acta.md", source.encode())
    assert loaded.title == "Acta de la mesa"
    assert "La comisión revisó las metas." in loaded.text
    assert safe_file_name(f"acta{sequence}.md") == "acta.md"
    assert clean_question(f"¿metas{sequence} de la mesa?") == "¿metas de la mesa?"


def test_a_lone_escape_takes_nothing_but_itself() -> None:
    assert clean_question("plan de\x1b árboles") == "plan de árboles"
    assert clean_text("plan de\x1b árboles") == "plan de árboles"
    assert safe_file_name("../plan\x07 de\x1b árboles.txt") == "plan de árboles.txt"


def test_joiners_between_emoji_stay_so_a_quoted_picture_stays_one() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(f"La familia {family} cruzó.") == f"La familia {family} cruzó."


@pytest.mark.parametrize(
    ("mojibake", "kept"),
    [
        ("ArÄ\u009d tículo", "ArÄ tículo"),  # "ĝ" (C4 9D) read as Latin-1: a lone one-byte OSC
        ("ArÄ\u009bt ículo", "ArÄt ículo"),  # a lone one-byte CSI before a letter
        ("Artículo\x1b]0;sin cierre", "Artículo0;sin cierre"),  # an OSC never terminated
    ],
)
def test_a_stray_control_byte_never_takes_the_text_after_it(mojibake: str, kept: str) -> None:
    text = f"Artículo primero.\n\n{mojibake} segundo.\n\nArtículo tercero."
    loaded = load_bytes("actas.txt", text.encode())
    assert loaded.text.split("\n\n") == [
        "Artículo primero.",
        f"{kept} segundo.",
        "Artículo tercero.",
    ]
    assert clean_question(f"¿{mojibake} segundo?") == f"¿{kept} segundo?"


@pytest.mark.parametrize(
    ("separated", "read"),
    [
        ("línea uno\x85línea dos", "línea uno\nlínea dos"),  # NEL
        ("registro uno\x1eregistro dos", "registro uno\nregistro dos"),
        ("campo\x1fvalor", "campo valor"),  # the unit separator ends a field
    ],
)
def test_separating_controls_keep_the_words_apart(separated: str, read: str) -> None:
    assert clean_text(separated) == read
    page = f"<html><body><p>{separated}</p></body></html>".encode()
    assert load_bytes("pagina.html", page).text == " ".join(read.split())


def test_a_joiner_after_a_decomposed_accent_goes_too() -> None:
    assert clean_text("La educacio\u0301\u200dn pública.") == "La educación pública."


def test_a_control_beside_a_joiner_leaves_one_word_in_documents_as_in_questions() -> None:
    assert clean_question("¿qué del fenta\x00\u200dnilo?") == "¿qué del fentanilo?"
    assert clean_text("El fenta\x00\u200dnilo cruza.") == "El fentanilo cruza."
