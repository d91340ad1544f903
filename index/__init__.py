"""acuerdo-bot's library core: documents in, verbatim passages out. It knows nothing of Telegram."""

from __future__ import annotations

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
    UnsupportedFormatError,
)
from index.hits import AddResult, Answer, DocumentInfo, Hit, PassageView, Stats, UnansweredQuestion
from index.library import Library
from index.loaders import SUPPORTED_EXTENSIONS
from index.source_files import MAX_FILE_BYTES

__all__ = [
    "BUNDLED_MODEL",
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
    "Hit",
    "Library",
    "ModelError",
    "NotFoundError",
    "PassageView",
    "SentenceTransformerEmbedder",
    "Settings",
    "SettingsError",
    "Stats",
    "StorageError",
    "UnansweredQuestion",
    "UnsupportedFormatError",
    "load_embedder",
    "load_settings",
]
