"""Database tables: the source of truth from which every search index is rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now, so SQLite and PostgreSQL store the same instant."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""


class Document(Base):
    """One source document as an admin added it."""

    __tablename__ = "documents"
    # Ids are never reused, also on SQLite (index/sqlite_ids.py upgrades older files).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    source_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The file as it arrived, zlib-compressed, so a better reader can read it again (`index
    # rebuild`); None for documents added before it was kept (those are re-cut from passages).
    source: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    passages: Mapped[list[Passage]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Passage.ordinal"
    )


class Passage(Base):
    """A paragraph (or part of one) quoted verbatim, with its embedding."""

    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    paragraph: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The headings above the passage ("Capítulo 2 › Requisitos"): context for ranking and for
    # the reader, never quoted as the answer.
    heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    model_id: Mapped[str] = mapped_column(String(200))
    # The removed second encoder's vector and model: no longer written or read (new rows leave
    # them NULL), kept so databases that have them open unchanged.
    aux_embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    aux_model_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document: Mapped[Document] = relationship(back_populates="passages")


class IndexState(Base):
    """A single row: which model the stored vectors belong to and a version bumped on change."""

    __tablename__ = "index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=0)
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PseudonymKey(Base):
    """A single row: the fingerprint of the key the askers' pseudonyms are made with
    (index/pseudonyms.py). Absent until a release with keyed pseudonyms first starts."""

    __tablename__ = "pseudonym_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    adopted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdBlock(Base):
    """The next free id of a table whose rows get their ids from the process that writes them.

    Each process reserves a block of ids at a time (index/querylog.py), so it can hand out an id
    at once and write the row later, and replicas sharing a database never collide.
    """

    __tablename__ = "id_blocks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class QueryLog(Base):
    """One question asked, how it was answered, and how long it took.

    Ids come from `IdBlock` (written behind the answer), not from the database's autoincrement.
    """

    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    question: Mapped[str] = mapped_column(Text)
    user_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The asker in the chat they asked in (index/ownership.py); NULL on rows from older releases.
    owner_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(20), default="cli")
    top_passage_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passage_ids: Mapped[str] = mapped_column(Text, default="")
    top_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered: Mapped[bool] = mapped_column(Boolean)
    # Shown as "lo más cercano" rather than as the answer; NULL on rows older than the outcome.
    tentative: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)


class Feedback(Base):
    """A thumbs up or down on one answer; one vote per user and query, the last one wins."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("query_id", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[int] = mapped_column(
        ForeignKey("query_log.id", ondelete="CASCADE"), index=True
    )
    user_hash: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    passage_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """A chat following a topic (`/seguir`), or every new document when `everything` is set.

    `chat_id` is the private chat of a user or a group whose admins subscribed it; `topic_key`
    is the folded topic, so "Armas" and "armas" are one subscription.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "topic_key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(String(200))
    topic_key: Mapped[str] = mapped_column(String(200), index=True)
    everything: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """The outbox: one message to one chat about one new document, written in the transaction
    that stored the document and sent later by a bot (index/outbox.py).

    It carries everything the message shows, so any replica can send it whatever its index
    has loaded. `due_at` is when it may be tried next; while a sender holds it, the end of
    its lease.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("chat_id", "document_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    document_id: Mapped[int] = mapped_column(Integer)
    document_title: Mapped[str] = mapped_column(String(300))
    # The topic that matched and its subscription (for «Dejar de seguir»); None for `todo`.
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subscription_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passage_id: Mapped[int] = mapped_column(Integer)
    paragraph: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    highlight_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    highlight_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
