"""Admin handlers: uploads, /documentos, /borrar, /reindex, /estadisticas (see issue 4)."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the admin handlers (before the generic user handlers)."""
