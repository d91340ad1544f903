"""Keep the bot token out of every log line, whichever library writes it."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Replace the token (and its id-less secret half) wherever it appears in a record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._secrets = [s for s in {token, token.partition(":")[2]} if len(s) >= 8]

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[TOKEN]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
            record.exc_info = None
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_token_redaction(token: str) -> RedactToken:
    """Attach the filter to every root handler (creating one if logging is unconfigured)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    redactor = RedactToken(token)
    for handler in root.handlers:
        handler.addFilter(redactor)
    return redactor
