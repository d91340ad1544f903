"""Errors with messages written for the people who see them (CLI users and bot admins)."""

from __future__ import annotations


class AcuerdoError(Exception):
    """Base class: `str(error)` is a complete sentence in Spanish, safe to show to a user."""


class DocumentError(AcuerdoError):
    """A document could not be read or indexed; nothing was changed."""


class UnsupportedFormatError(DocumentError):
    """The file type is not one we can read."""


class EncodingError(DocumentError):
    """The text is not UTF-8 (or the file is binary)."""


class EmptyDocumentError(DocumentError):
    """The document has no text to index."""


class DocumentTooLargeError(DocumentError):
    """The file is bigger than we accept."""


class NotFoundError(AcuerdoError):
    """A document or passage id that does not exist."""


class StorageError(AcuerdoError):
    """The database cannot be reached or refused the operation."""


class ModelError(AcuerdoError):
    """The embedding model could not be loaded."""


class EmptyQuestionError(AcuerdoError):
    """The question has no words."""


class SettingsError(AcuerdoError):
    """A setting (environment variable or `.env` line) has a value we cannot use."""


class TopicError(AcuerdoError):
    """A topic cannot be followed (empty, too long, repeated, over the limit); nothing changed."""
