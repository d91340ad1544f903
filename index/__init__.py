"""acuerdo-bot's library core: documents in, verbatim passages out. It knows nothing of Telegram.

This is the whole face the adapters in `bot/` see (tests/test_architecture.py holds them to it):
the `Library` service and its settings, results and errors; following topics (`Subscriptions`,
`Outbox` and what they hand out); and the few text helpers a reply needs to quote the way the
index reads — `sentence_spans` (where sentences are), `fold` (how words are compared) and
`safe_file_name` (how an upload is named) — plus `evaluate` / `format_report` for `acuerdo eval`.
"""

from __future__ import annotations

from index.chunking import sentence_spans
from index.config import BUNDLED_MODEL, Settings, load_settings
from index.embedding import E5SmallEmbedder, Embedder, SentenceTransformerEmbedder, load_embedder
from index.errors import (
    AcuerdoError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EmptyQuestionError,
    EncodingError,
    ModelError,
    NotFoundError,
    SettingsError,
    StorageError,
    TopicError,
    UnsupportedFormatError,
)
from index.evaluation import evaluate, format_report
from index.hits import AddResult, Answer, DocumentInfo, Hit, PassageView, Stats, UnansweredQuestion
from index.lexical import fold
from index.library import Library
from index.loaders import SUPPORTED_EXTENSIONS, safe_file_name
from index.outbox import Outbox, OutgoingNotification
from index.source_files import MAX_FILE_BYTES
from index.subscriptions import EVERYTHING, Followed, Subscriptions

__all__ = [
    "BUNDLED_MODEL",
    "EVERYTHING",
    "MAX_FILE_BYTES",
    "SUPPORTED_EXTENSIONS",
    "AcuerdoError",
    "AddResult",
    "Answer",
    "DocumentError",
    "DocumentInfo",
    "DocumentTooLargeError",
    "E5SmallEmbedder",
    "Embedder",
    "EmptyDocumentError",
    "EmptyQuestionError",
    "EncodingError",
    "Followed",
    "Hit",
    "Library",
    "ModelError",
    "NotFoundError",
    "Outbox",
    "OutgoingNotification",
    "PassageView",
    "SentenceTransformerEmbedder",
    "Settings",
    "SettingsError",
    "Stats",
    "StorageError",
    "Subscriptions",
    "TopicError",
    "UnansweredQuestion",
    "UnsupportedFormatError",
    "evaluate",
    "fold",
    "format_report",
    "load_embedder",
    "load_settings",
    "safe_file_name",
    "sentence_spans",
]
