"""Webhook mode: an aiohttp server that checks Telegram's secret header and reports health."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from acuerdo.bot.polling import ALLOWED_UPDATES, BoundedWarnings, serving, stop_on_signals
from acuerdo.index import AcuerdoError, Library, Settings

log = logging.getLogger("acuerdo.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to: that of the public URL, or /telegram."""
    if settings.webhook_url:
        path = urlsplit(settings.webhook_url).path
        if path and path != "/":
            return path
    return "/telegram"


def make_web_app(application: Application, settings: Settings, library: Library) -> web.Application:  # type: ignore[type-arg]
    """Routes: POST <webhook path> for updates, GET /healthz for the load balancer."""
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise AcuerdoError("El modo webhook necesita TELEGRAM_WEBHOOK_SECRET.")
    secret = settings.webhook_secret.get_secret_value().encode()
    unreadable = BoundedWarnings()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("webhook call with a wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return web.Response(status=400, text="bad update")
        if not isinstance(payload, dict):  # valid JSON, but not an update
            return web.Response(status=400, text="bad update")
        try:
            update = Update.de_json(payload, application.bot)
        except Exception as exc:  # whatever the library raises on data it does not expect
            unreadable.warn("webhook: unreadable update (%s)", type(exc).__name__)
            # Telegram retries anything but 2xx: acknowledge what it sent, skip what we can't use.
            return web.Response(text="ok")
        if update is None:
            return web.Response(status=400, text="bad update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        report = await asyncio.to_thread(library.health)
        return web.json_response(report, status=200 if report["ok"] else 503)

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(webhook_path(settings), receive)
    app.router.add_get("/healthz", healthz)
    return app


async def serve_webhook(application: Application, settings: Settings, library: Library) -> None:  # type: ignore[type-arg]
    """Run until SIGINT/SIGTERM: the application's lifecycle (`serving`) around the HTTP server."""
    web_app = make_web_app(application, settings, library)
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with serving(application, stop) as ready:
        if not ready:
            return
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
        await site.start()
        log.info("webhook listening on %s:%s", settings.webhook_listen, settings.webhook_port)
        try:
            if settings.webhook_url:
                secret = (
                    settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                )
                await application.bot.set_webhook(
                    url=settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            await stop.wait()
        finally:
            await runner.cleanup()
