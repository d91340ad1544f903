"""Pure functions: answers → Telegram HTML (escaped, within Telegram's 4096) or plain text.

Telegram counts every limit in UTF-16 code units, so an emoji or any other character outside
the Basic Multilingual Plane counts 2: limits here are measured with `telegram_length`
(bot/telegram_text.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape

from acuerdo.bot.telegram_text import telegram_cut, telegram_length, telegram_prefix
from acuerdo.index import (
    Answer,
    DocumentInfo,
    Followed,
    Hit,
    OutgoingNotification,
    Stats,
    fold,
    sentence_spans,
)

TELEGRAM_LIMIT = 4096
# Room kept for the source line and markup around the quote.
_QUOTE_BUDGET = 3500
_EXPANDABLE_FROM = 900
_HEADING_BUDGET = 300


def _cut_at_sentence(text: str, limit: int) -> str:
    """The longest prefix of whole sentences within `limit` UTF-16 units (or a word cut), with an
    ellipsis."""
    if telegram_length(text) <= limit:
        return text
    limit = telegram_prefix(text, limit)  # in characters from here: each is at least one unit
    end = 0
    for _, sentence_end in sentence_spans(text):
        if sentence_end > limit - 1:
            break
        end = sentence_end
    if end == 0:
        end = text.rfind(" ", 0, limit - 1)
        end = end if end > 0 else limit - 1
    return text[:end].rstrip() + "…"


def _quote_html(hit: Hit, limit: int) -> str:
    text = _cut_at_sentence(hit.text, limit)
    if hit.highlight is None:
        return escape(text)
    start, end = hit.highlight
    end = min(end, len(text))
    if start >= end:
        return escape(text)
    return f"{escape(text[:start])}<b>{escape(text[start:end])}</b>{escape(text[end:])}"


def snippet(text: str, query: str, limit: int) -> str:
    """At most `limit` UTF-16 units of `text`, centred on the first word of `query` it contains."""
    chars, cut = limit, _snippet(text, query, limit)
    while (over := telegram_length(cut) - limit) > 0:  # emoji count 2: fewer characters
        chars -= (over + 1) // 2
        cut = _snippet(text, query, chars)
    return cut


def _snippet(text: str, query: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    folded = fold(text)
    words = sorted(
        (w for w in re.findall(r"\w+", fold(query)) if len(w) > 3), key=len, reverse=True
    )
    hits = [folded.find(w) for w in words if folded.find(w) >= 0]
    if not hits:
        return text[: limit - 1].rstrip() + "…"
    start = max(0, min(min(hits) - limit // 3, len(text) - limit + 1))
    window = text[start : start + limit - 2].strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + limit - 2 < len(text) else ""
    return (prefix + window + suffix)[:limit]


def source_line(hit: Hit) -> str:
    """Plain "Title — párrafo N" for a hit."""
    return f"{hit.document_title} — párrafo {hit.paragraph}"


def hit_html(hit: Hit, *, position: int = 0, total: int = 1) -> str:
    """A quoted passage with its sentence in bold, then its source; always within Telegram's
    4096 UTF-16 units."""
    source = f"📄 <i>{escape(hit.document_title)}</i> — párrafo {hit.paragraph}"
    if total > 1:
        source += f"  ·  resultado {position + 1} de {total}"
    quote = _quote_html(hit, _QUOTE_BUDGET)
    tag = "<blockquote expandable>" if len(hit.text) > _EXPANDABLE_FROM else "<blockquote>"
    # The headings say where the quote sits; they are context, outside the quote itself.
    heading = escape(telegram_cut(hit.heading or "", _HEADING_BUDGET))
    heading = f"<b>{heading}</b>\n" if heading else ""
    message = f"{heading}{tag}{quote}</blockquote>\n{source}"
    # A very long title: shorten it, never the markup.
    if telegram_length(message) > TELEGRAM_LIMIT:
        message = f"{heading}{tag}{quote}</blockquote>\n📄 párrafo {hit.paragraph}"
    # And a long heading full of "&" (or of emoji): the quote matters most.
    if telegram_length(message) > TELEGRAM_LIMIT:
        message = f"{tag}{quote}</blockquote>\n📄 párrafo {hit.paragraph}"
    return message


# Said before a passage that is the closest found but may not answer the question.
TENTATIVE_LEAD = "No lo encontré dicho así; esto es lo más cercano:"
TENTATIVE_SHORT = "Lo más cercano (no exacto)"


def answer_html(answer: Answer, *, position: int = 0) -> str:
    """The reply to a question: the hit at `position` (introduced as the closest passage when
    the answer is tentative), or a polite "nothing found"."""
    if not answer.shows_passage:
        return nothing_found_html()
    position = max(0, min(position, len(answer.hits) - 1))
    quote = hit_html(answer.hits[position], position=position, total=len(answer.hits))
    if answer.outcome == "tentative":
        lead = f"<i>{escape(TENTATIVE_LEAD)}</i>\n"
        if telegram_length(lead + quote) <= TELEGRAM_LIMIT:
            return lead + quote
    return quote


def notification_html(note: OutgoingNotification) -> str:
    """A follower's message: which document, why (the topic), and the passage quoted."""
    hit = Hit(
        passage_id=note.passage_id,
        document_id=note.document_id,
        document_title=note.document_title,
        paragraph=note.paragraph,
        ordinal=0,
        text=note.text,
        score=0.0,
        dense=0.0,
        lexical=0.0,
        highlight=note.highlight,
        heading=note.heading,
    )
    title = escape(telegram_cut(note.document_title, _HEADING_BUDGET))
    if note.topic is None:
        lead = f"🔔 Nuevo documento: <i>{title}</i>. Empieza así:\n"
    else:
        lead = f"🔔 Un documento nuevo habla de «{escape(note.topic)}»: <i>{title}</i>\n"
    quote = hit_html(hit)
    return lead + quote if telegram_length(lead + quote) <= TELEGRAM_LIMIT else quote


def followed_html(topics: Sequence[Followed]) -> str:
    """/siguiendo: the chat's topics, numbered for /dejar (every one has its button too)."""
    if not topics:
        return (
            "No sigue ningún tema. Con /seguir &lt;tema&gt; le aviso cuando un documento nuevo "
            "hable de él; con /seguir todo, de cada documento nuevo."
        )
    lines = ["<b>Temas que sigue</b> (deje uno con /dejar &lt;número&gt; o con su botón):"]
    lines += [
        f"{t.number}. " + ("todos los documentos nuevos" if t.everything else escape(t.topic))
        for t in topics
    ]
    return _fit("\n".join(lines), FOLLOWED_MORE)


def nothing_found_html(examples: Sequence[str] = ()) -> str:
    """What we say when no passage answers the question; never an unrelated quote."""
    lines = [
        "No encontré ningún pasaje que responda a esa pregunta en los documentos que conozco.",
        "Pruebe con otras palabras, o consulte /fuentes para ver qué documentos tengo.",
    ]
    if examples:
        lines.append("Por ejemplo:")
        lines.extend(f"• {escape(e)}" for e in examples)
    return "\n".join(lines)


def answer_text(answer: Answer, *, position: int = 0, bold: tuple[str, str] = ("«", "»")) -> str:
    """The same answer for a terminal: the passage, the sentence marked, then the source."""
    if not answer.shows_passage:
        return (
            "No encontré ningún pasaje que responda a esa pregunta en los documentos que conozco."
        )
    hit = answer.hits[max(0, min(position, len(answer.hits) - 1))]
    text = hit.text
    if hit.highlight is not None:
        start, end = hit.highlight
        text = f"{text[:start]}{bold[0]}{text[start:end]}{bold[1]}{text[end:]}"
    lead = f"{TENTATIVE_LEAD}\n" if answer.outcome == "tentative" else ""
    heading = f"[{hit.heading}]\n" if hit.heading else ""
    return f"{lead}{heading}{text}\n— {source_line(hit)}"


def _date(value: datetime) -> str:
    return value.strftime("%d/%m/%Y")


def documents_html(documents: Sequence[DocumentInfo], *, bot_username: str | None = None) -> str:
    """/fuentes: every document with its date (and a link to its first passage when possible)."""
    if not documents:
        return "Todavía no tengo ningún documento."
    lines = ["<b>Documentos que conozco:</b>"]
    for doc in documents:
        title = escape(doc.title)
        if bot_username and doc.first_passage_id is not None:
            url = f"https://t.me/{escape(bot_username)}?start=p{doc.first_passage_id}"
            title = f'<a href="{url}">{title}</a>'
        lines.append(f"• {title} ({_date(doc.added_at)}, {doc.passages} pasajes)")
    return _fit("\n".join(lines))


def admin_documents_html(documents: Sequence[DocumentInfo]) -> str:
    """/documentos: ids, titles, passage counts and dates, for admins."""
    if not documents:
        return "No hay documentos indexados."
    lines = ["<b>Documentos</b> (id · título · pasajes · añadido):"]
    lines += [
        f"<code>{d.id}</code> · {escape(d.title)} · {d.passages} · {_date(d.added_at)}"
        for d in documents
    ]
    return _fit("\n".join(lines))


def stats_html(stats: Stats) -> str:
    """/estadisticas for admins."""
    lines = [
        "<b>Estadísticas</b>",
        f"Documentos: {stats.documents} ({stats.passages} pasajes)",
        f"Preguntas: {stats.questions}, respondidas: {stats.answered} ({stats.answered_share:.0%})"
        f", con lo más cercano: {stats.tentative}, sin resultado: {stats.nothing}",
        f"Valoraciones: 👍 {stats.helpful} · 👎 {stats.not_helpful}",
        f"Suscriptores: {stats.subscribers} (temas distintos: {stats.topics}; siguen todo: "
        f"{stats.following_everything}; avisos pendientes: {stats.notifications_pending})",
    ]
    if stats.top_unanswered:
        lines.append("<b>Preguntas sin respuesta más frecuentes:</b>")
        lines += [f"{u.count}× {escape(clipped(u.question))}" for u in stats.top_unanswered]
    return _fit("\n".join(lines))


QUESTION_PREVIEW_CHARS = 200


def clipped(text: str, limit: int = QUESTION_PREVIEW_CHARS) -> str:
    """One line of at most `limit` UTF-16 units, cut with "…": a logged question's preview (a
    pasted 100 kB text must not hide the others), an inline title, a topic in a button answer."""
    flat = " ".join(text.split())
    if telegram_length(flat) <= limit:
        return flat
    return telegram_cut(flat, limit - 1).rstrip() + "…"


# The last line of /siguiendo when its topics do not all fit; the buttons still list every one.
FOLLOWED_MORE = "…y {n} más (cada uno tiene su botón «Dejar» debajo)."


def _fit(html_text: str, more: str = "…") -> str:
    """Drop whole trailing lines until the message fits Telegram's limit, then end with `more`
    (its "{n}" says how many lines were dropped)."""
    if telegram_length(html_text) <= TELEGRAM_LIMIT:
        return html_text
    lines = html_text.split("\n")
    kept = used = 0  # used: UTF-16 units of the kept lines, each with its newline
    for line in lines:
        size = telegram_length(line) + 1
        if used + size + telegram_length(more.format(n=len(lines) - kept - 1)) > TELEGRAM_LIMIT:
            break
        used, kept = used + size, kept + 1
    return "\n".join([*lines[:kept], more.format(n=len(lines) - kept)])
