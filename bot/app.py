"""Build the Telegram application (production and tests alike) and run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from acuerdo.bot import admin, buttons, follow, handlers, inline
from acuerdo.bot.floodgate import flood_gate
from acuerdo.bot.logfilter import install_token_redaction
from acuerdo.bot.notifier import Notifier
from acuerdo.bot.polling import ScreeningBot, serve_polling
from acuerdo.bot.priority import PriorityRateLimiter
from acuerdo.bot.ratelimit import UserRateLimiter
from acuerdo.bot.services import BotData, BotServices, bot_data_type, context_types
from acuerdo.bot.worker import EncoderWorker
from acuerdo.index import AcuerdoError, Library, Settings, StorageError

log = logging.getLogger("acuerdo.bot")

USER_COMMANDS = [
    BotCommand("start", "Presentación y ejemplos"),
    BotCommand("ayuda", "Cómo usar el bot"),
    BotCommand("fuentes", "Documentos que conozco"),
    BotCommand("pregunta", "Hacer una pregunta (en grupos)"),
    BotCommand("seguir", "Avisarme cuando un documento nuevo hable de un tema"),
    BotCommand("siguiendo", "Los temas que sigo"),
    BotCommand("dejar", "Dejar de seguir un tema"),
]


def rate_limiter_for(settings: Settings) -> PriorityRateLimiter:
    """Telegram's flood limits and retries, with notifications paced behind replies."""
    return PriorityRateLimiter(max_retries=3, bulk_per_second=settings.notify_per_second)


def build_application(
    settings: Settings,
    library: Library,
    *,
    rate_limiter: BaseRateLimiter[int] | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot with every handler, honouring the API base URLs in `settings`.

    `rate_limiter` replaces `rate_limiter_for(settings)` (a benchmark switches it off mid-run).
    """
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise StorageError("Falta TELEGRAM_BOT_TOKEN: configúrelo en .env para ejecutar el bot.")
    bot = ScreeningBot(
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_base_url,
        # What ApplicationBuilder would make: a pool for replies, one connection for polling.
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=rate_limiter or rate_limiter_for(settings),
    )
    services = BotServices(
        library=library,
        worker=EncoderWorker(),
        limiter=UserRateLimiter(settings.questions_per_minute),
        chatter=UserRateLimiter(2 * settings.questions_per_minute),
        admin_ids=settings.telegram_admin_ids,
    )
    notifier = Notifier(
        bot,
        library.outbox(
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.outbox_max_attempts,
        ),
        library.subscriptions,
        poll_seconds=settings.outbox_poll_seconds,
        backoff_seconds=settings.outbox_backoff_seconds,
    )
    data = bot_data_type(services, notifier, poll_seconds=settings.index_poll_seconds)
    application = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(context_types(data))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    _register(application)
    return application


def _register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE  # edits and channel posts are left alone
    add = application.add_handler
    add(TypeHandler(Update, flood_gate), group=-1)  # before any handler that would reply
    add(CommandHandler("start", handlers.start, filters=new_message))
    add(CommandHandler(["ayuda", "help"], handlers.help_command, filters=new_message))
    add(CommandHandler("fuentes", handlers.sources, filters=new_message))
    add(CommandHandler("pregunta", handlers.ask_command, filters=new_message))
    admin.register(application)
    follow.register(application)
    add(InlineQueryHandler(inline.inline_query))
    buttons.register(application)  # after admin's and follow's: its last handler takes the rest
    add(
        MessageHandler(
            private & new_message & filters.TEXT & ~filters.COMMAND, handlers.private_text
        )
    )
    add(MessageHandler(groups & new_message & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    add(MessageHandler(private & new_message & filters.COMMAND, handlers.unknown_command))
    add(MessageHandler(private & new_message & ~filters.TEXT, handlers.not_text))
    application.add_error_handler(handlers.error_handler)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    await application.bot.set_my_commands(USER_COMMANDS)
    data: BotData = application.bot_data
    data.tasks.append(asyncio.create_task(_refresh_loop(data.services.library, data.poll_seconds)))
    data.tasks.append(asyncio.create_task(data.notifier.run()))


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    data: BotData = application.bot_data
    while data.tasks:
        task = data.tasks.pop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    data.services.worker.shutdown()
    await asyncio.to_thread(data.services.library.close)


async def _refresh_loop(library: Library, seconds: float) -> None:
    """Pick up documents added or removed by other processes; the rebuild runs off the loop."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(library.refresh)
        except Exception:
            log.warning("index refresh failed; serving the previous index", exc_info=True)


def run_bot(settings: Settings, *, webhook: bool) -> int:
    """`acuerdo bot [--webhook]`: open the library, then poll or serve the webhook."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.telegram_bot_token is not None:
        install_token_redaction(settings.telegram_bot_token.get_secret_value())
    library = Library.open(settings, notice=log.info)
    try:  # a key that is not the database's is said at start, not at the first question
        library.check_pseudonyms(notice=log.info)
    except AcuerdoError:
        library.close()
        raise
    application = build_application(settings, library)
    if webhook:
        from acuerdo.bot.webhook import serve_webhook

        asyncio.run(serve_webhook(application, settings, library))
        return 0
    asyncio.run(serve_polling(application))
    return 0


__all__ = ["build_application", "run_bot"]
