"""Inline mode: `@bot fentanilo` in any chat offers the top passages as ready-to-send quotes."""

from __future__ import annotations

from telegram import (
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from acuerdo.bot import render
from acuerdo.bot.services import BotContext, services
from acuerdo.bot.telegram_text import telegram_length
from acuerdo.bot.worker import BusyError
from acuerdo.index import EmptyQuestionError, Hit

CACHE_SECONDS = 30
TITLE_CHARS = 90


async def inline_query(update: Update, context: BotContext) -> None:
    """Answer with quotes for in-scope queries, and only a hint otherwise."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    svc = services(context)
    if not text:
        await _ask_for_words(query)
        return
    if not svc.limiter.allow(query.from_user.id):
        await query.answer(
            [],
            cache_time=5,
            is_personal=True,
            button=InlineQueryResultsButton(
                "Demasiadas búsquedas: espere un momento", start_parameter="ayuda"
            ),
        )
        return
    try:
        answer = await svc.worker.run(
            svc.library.ask, text, k=5, user_id=query.from_user.id, channel="inline"
        )
    except BusyError:
        await query.answer([], cache_time=5, is_personal=False)
        return
    except EmptyQuestionError:  # only invisible characters or escape codes: nothing to look for
        await _ask_for_words(query)
        return
    if not answer.shows_passage:
        await query.answer(
            [],
            cache_time=CACHE_SECONDS,
            is_personal=False,
            button=InlineQueryResultsButton(
                "Sin resultados: pruebe otras palabras", start_parameter="ayuda"
            ),
        )
        return
    results = [
        InlineQueryResultArticle(
            id=str(hit.passage_id),
            title=render.snippet(hit.highlighted_sentence, text, TITLE_CHARS),
            description=_description(hit, tentative=not answer.answered),
            input_message_content=InputTextMessageContent(
                render.hit_html(hit), parse_mode=ParseMode.HTML, disable_web_page_preview=True
            ),
        )
        for hit in answer.hits
    ]
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=False)


async def _ask_for_words(query: InlineQuery) -> None:
    await query.answer(
        [],
        cache_time=CACHE_SECONDS,
        is_personal=False,
        button=InlineQueryResultsButton(
            "Escriba qué busca, p. ej. «fentanilo»", start_parameter="ayuda"
        ),
    )


def _description(hit: Hit, *, tentative: bool) -> str:
    """The source line, the paragraph kept when a long title is cut; tentative ones say so."""
    where = f" — párrafo {hit.paragraph}"
    lead = f"{render.TENTATIVE_SHORT} · " if tentative else ""
    room = max(10, 120 - telegram_length(lead + where))
    return f"{lead}{render.clipped(hit.document_title, room)}{where}"
