"""acuerdo-bot's library core: documents in, verbatim passages out. It knows nothing of Telegram.

This is the whole face the adapters in `bot/` see (tests/test_architecture.py holds them to it):
the `Library` service and its settings, results and errors; following topics (`Subscriptions`,
`Outbox` and what they hand out); and the few text helpers a reply needs to quote the way the
index reads — `sentence_spans` (where sentences are), `fold` (how words are compared) and
`safe_file_name` (how an upload is named) — plus `evaluate` / `format_report` for `acuerdo eval`.
"""

from __future__ import annotations

from acuerdo.index.chunking import sentence_spans
from acuerdo.index.config import BUNDLED_MODEL, Settings, load_settings
from acuerdo.index.embedding import (
    E5SmallEmbedder,
    Embedder,
    EmbedderKind,
    EmbedderOptions,
    SentenceTransformerEmbedder,
    embedder_kinds,
    load_embedder,
    register_embedder,
)
from acuerdo.index.errors import (
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
from acuerdo.index.evaluation import evaluate, format_report
from acuerdo.index.hits import (
    AddResult,
    Answer,
    DocumentInfo,
    Hit,
    PassageView,
    Stats,
    UnansweredQuestion,
)
from acuerdo.index.ingest import PreparedDocument
from acuerdo.index.lexical import fold
from acuerdo.index.library import Library
from acuerdo.index.loaders import (
    SUPPORTED_EXTENSIONS,
    FileFormat,
    file_formats,
    formats_listed,
    register_format,
    safe_file_name,
    supported_extensions,
    upload_name,
)
from acuerdo.index.outbox import Outbox, OutgoingNotification
from acuerdo.index.source_files import MAX_FILE_BYTES, check_download_size
from acuerdo.index.subscriptions import EVERYTHING, Followed, Subscriptions

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
    "EmbedderKind",
    "EmbedderOptions",
    "EmptyDocumentError",
    "EmptyQuestionError",
    "EncodingError",
    "FileFormat",
    "Followed",
    "Hit",
    "Library",
    "ModelError",
    "NotFoundError",
    "Outbox",
    "OutgoingNotification",
    "PassageView",
    "PreparedDocument",
    "SentenceTransformerEmbedder",
    "Settings",
    "SettingsError",
    "Stats",
    "StorageError",
    "Subscriptions",
    "TopicError",
    "UnansweredQuestion",
    "UnsupportedFormatError",
    "check_download_size",
    "embedder_kinds",
    "evaluate",
    "file_formats",
    "fold",
    "format_report",
    "formats_listed",
    "load_embedder",
    "load_settings",
    "register_embedder",
    "register_format",
    "safe_file_name",
    "sentence_spans",
    "supported_extensions",
    "upload_name",
]
