"""Pure formatting: escaping, highlighting and Telegram's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from acuerdo.bot import keyboards, render, telegram_text
from acuerdo.index import (
    Answer,
    DocumentInfo,
    Followed,
    Hit,
    OutgoingNotification,
    Stats,
    UnansweredQuestion,
)
from tests.fake_telegram import parse_html


def _hit(text: str, title: str = "Doc <b>&", highlight: tuple[int, int] | None = None) -> Hit:
    return Hit(1, 1, title, 3, 2, text, 0.5, 0.8, 1.0, highlight)


def test_answer_escapes_everything_and_bolds_the_sentence() -> None:
    text = "Primera <i>frase</i> & más. Segunda frase </blockquote>."
    start = text.index("Segunda")
    html_text = render.hit_html(_hit(text, highlight=(start, len(text))))
    plain, entities = parse_html(html_text)  # raises on malformed HTML, as Telegram would
    assert text in plain and "Doc <b>&" in plain and "párrafo 3" in plain
    bold = next(e for e in entities if e["type"] == "bold")
    assert plain[bold["offset"] : bold["offset"] + bold["length"]] == text[start:]


def test_long_passage_is_cut_at_a_sentence_in_an_expandable_quote() -> None:
    sentence = "Esta es una oración larga del documento sobre seguridad fronteriza y cooperación. "
    text = (sentence * 80).strip()
    html_text = render.hit_html(_hit(text, title="T" * 300, highlight=(0, len(sentence) - 1)))
    assert len(html_text) <= render.TELEGRAM_LIMIT
    assert html_text.startswith("<blockquote expandable>")
    plain, _ = parse_html(html_text)
    quoted = plain.split("\n")[0]
    assert quoted.endswith("cooperación.…")


def test_nothing_found_never_quotes() -> None:
    answer = Answer("¿receta?", False, (_hit("Algo sin relación."),), 0.2)
    assert "No encontré" in render.answer_html(answer)
    assert "Algo sin relación" not in render.answer_html(answer)
    assert "No encontré" in render.answer_text(answer)


def test_plain_text_answer_marks_the_sentence_and_source() -> None:
    text = "Uno. Dos."
    answer = Answer("q", True, (_hit(text, title="Doc", highlight=(5, 9)),), 1.2)
    assert render.answer_text(answer) == "Uno. «Dos.»\n— Doc — párrafo 3"


def test_lists_fit_the_limit_and_escape_titles() -> None:
    when = datetime(2025, 9, 3, tzinfo=UTC)
    docs = [
        DocumentInfo(i, f"<Título {i}>" + "x" * 200, "a.txt", 5, when, i * 10) for i in range(60)
    ]
    for html_text in (
        render.documents_html(docs, bot_username="bot"),
        render.admin_documents_html(docs),
    ):
        assert len(html_text) <= render.TELEGRAM_LIMIT
        plain, _ = parse_html(html_text)
        assert "<Título 0>" in plain and "03/09/2025" in plain
    stats = Stats(2, 30, 10, 7, 3, 1, (UnansweredQuestion("<script>", 4),))
    plain, _ = parse_html(render.stats_html(stats))
    assert "70%" in plain and "4× <script>" in plain


def test_snippet_centres_on_the_query_word() -> None:
    sentence = (
        "Además, destacaron que México y Estados Unidos colaboran para atender el movimiento "
        "y detener el tráfico de fentanilo y armas."
    )
    cut = render.snippet(sentence, "fentanilo", 60)
    assert "fentanilo" in cut and len(cut) <= 60 and cut.startswith("…")
    assert render.snippet("corto", "x", 60) == "corto"


def test_heading_is_shown_above_the_quote_not_inside_it() -> None:
    hit = replace(_hit("Los requisitos son tres."), heading="Capítulo 2 › Requisitos <&>")
    html_text = render.hit_html(hit)
    plain, entities = parse_html(html_text)
    heading_line, quote_line = plain.split("\n")[:2]
    assert heading_line == "Capítulo 2 › Requisitos <&>"
    assert quote_line == "Los requisitos son tres."
    quote = next(e for e in entities if e["type"] in ("blockquote", "expandable_blockquote"))
    assert plain[quote["offset"] : quote["offset"] + quote["length"]] == "Los requisitos son tres."
    answer = Answer("¿requisitos?", True, (hit,), 1.0)
    assert render.answer_text(answer).split("\n")[:2] == [
        "[Capítulo 2 › Requisitos <&>]",
        "Los requisitos son tres.",
    ]


def test_a_huge_heading_never_breaks_the_limit() -> None:
    sentence = "Esta es una oración larga del documento sobre seguridad fronteriza y cooperación. "
    hit = replace(_hit((sentence * 80).strip()), heading="&" * 2000)
    assert len(render.hit_html(hit)) <= render.TELEGRAM_LIMIT


# Telegram counts in UTF-16 code units: each of these is outside the BMP and counts 2.
EMOJI_SENTENCE = "Alerta 🚨🔥 en la frontera 🌎🚧🚓 y más 🚨🚨🚨 hoy. "
WHEN = datetime(2025, 9, 3, tzinfo=UTC)


def _units(text: str) -> int:
    """Measured independently of render: raises on a lone surrogate, as a halved pair would."""
    return len(text.encode("utf-16-le")) // 2


def _assert_sendable(html_text: str) -> str:
    """Telegram would accept it: well-formed, valid text, within 4096 units before and after
    parsing; returns the plain text."""
    html_text.encode("utf-8")  # no lone surrogate
    assert _units(html_text) <= render.TELEGRAM_LIMIT
    plain, _ = parse_html(html_text)
    assert _units(plain) <= render.TELEGRAM_LIMIT
    return plain


def test_telegram_length_counts_utf16_units_and_cuts_never_halve_a_character() -> None:
    assert telegram_text.telegram_length("año") == 3
    assert telegram_text.telegram_length("a😀𝐚") == 5
    assert telegram_text.telegram_cut("😀😀", 3) == "😀"
    assert telegram_text.telegram_cut("a😀b", 2) == "a"
    assert telegram_text.telegram_cut("abc", 5) == "abc"
    assert telegram_text.telegram_prefix("😀" * 10, 7) == 3
    # Symbols made of several characters are kept whole or left out.
    assert telegram_text.telegram_cut("🇪🇸🇪🇸", 6) == "🇪🇸"
    assert telegram_text.telegram_cut("👨\u200d👩\u200d👧 hola", 3) == ""
    assert telegram_text.telegram_cut("ab👍🏽", 4) == "ab"
    assert telegram_text.telegram_cut("ab❤\ufe0f", 3) == "ab"
    assert telegram_text.telegram_cut("ao\u0301", 2) == "a"


def test_emoji_passages_titles_and_headings_stay_within_4096_units() -> None:
    hits = [
        _hit((EMOJI_SENTENCE * 200).strip(), title="🚨" * 300, highlight=(0, 10)),
        _hit("😀" * 5000, title="📄&" * 150),  # no sentence, no space: a plain cut
        replace(_hit((EMOJI_SENTENCE * 200).strip(), title="🔥" * 300), heading="🚧&" * 300),
    ]
    for hit in hits:
        plain = _assert_sendable(render.hit_html(hit, position=1, total=3))
        assert "párrafo 3" in plain
        answer = Answer("¿alerta?", False, (hit,), 0.5, tentative=True)
        _assert_sendable(render.answer_html(answer))
    plain = _assert_sendable(render.hit_html(hits[0]))
    assert plain.startswith("Alerta 🚨🔥 en la frontera") and "…" in plain


def test_an_emoji_document_notification_fits() -> None:
    for topic in (None, "🚨" * 200):
        note = OutgoingNotification(
            1, 10, 2, "🚨🔥" * 150, topic, 3, 4, 5, (EMOJI_SENTENCE * 200).strip(),
            "🚧" * 300, (0, 10), 0,
        )  # fmt: skip
        plain = _assert_sendable(render.notification_html(note))
        assert "Alerta 🚨🔥" in plain


def test_emoji_titles_in_document_lists_and_questions_in_stats_fit() -> None:
    docs = [DocumentInfo(i, f"<T{i}>" + "🚨" * 300, "a.txt", 5, WHEN, i) for i in range(40)]
    for html_text in (
        render.documents_html(docs, bot_username="bot"),
        render.admin_documents_html(docs),
    ):
        plain = _assert_sendable(html_text)
        assert "<T0>" in plain and plain.endswith("\n…") and "<T39>" not in plain
    unanswered = tuple(UnansweredQuestion(f"{i} " + "🔥" * 300, 9) for i in range(30))
    plain = _assert_sendable(render.stats_html(Stats(2, 30, 10, 7, 3, 1, unanswered)))
    assert "9× 0 🔥" in plain


def test_followed_topics_of_astral_characters_fit_with_a_polite_last_line() -> None:
    topics = [Followed(i, i + 1, chr(0x1D41A + i) * 200, False) for i in range(10)]
    plain = _assert_sendable(render.followed_html(topics))
    assert f"1. {chr(0x1D41A) * 200}" in plain
    last = plain.split("\n")[-1]
    assert last.startswith("…y ") and "más" in last
    dropped = int(last.split()[1])
    assert 1 <= dropped < 10
    assert plain.count("\n") == 1 + (10 - dropped)  # header, kept topics, the last line
    assert chr(0x1D41A + 9) not in plain
    # Ordinary lists are untouched.
    short = [Followed(1, 1, "armas", False), Followed(2, 2, "todo", True)]
    assert render.followed_html(short).split("\n")[1:] == [
        "1. armas",
        "2. todos los documentos nuevos",
    ]


def test_an_emoji_snippet_fits_its_units_and_keeps_the_query_word() -> None:
    text = "🚨" * 80 + " el tráfico de fentanilo " + "🔥" * 80
    cut = render.snippet(text, "fentanilo", 60)
    cut.encode("utf-8")
    assert "fentanilo" in cut and _units(cut) <= 60 and cut.startswith("…")
    assert telegram_text.telegram_length(render.snippet("😀" * 100, "x", 9)) <= 9


def test_the_share_button_query_is_cut_in_utf16_units() -> None:
    question = "¿" + "🚨" * 300 + "?"
    answer = Answer(question, True, (_hit("Uno."),), 1.0, query_id=7)
    markup = keyboards.answer_keyboard(answer, position=0, share=True)
    assert markup is not None
    [share] = [b for row in markup.inline_keyboard for b in row if b.switch_inline_query]
    assert share.switch_inline_query == "¿" + "🚨" * 99
    assert _units(share.switch_inline_query) <= keyboards.SHARE_QUERY_LIMIT
