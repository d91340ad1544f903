"""Followed topics against the passages a new document brings: the outbox rows to send.

Runs inside the transaction that stores the document, so the notifications exist exactly when
the document does. Each distinct topic is searched like a question (same retrieval, same
calibrated confidence) among the new passages only, over the library as it will be after the
change; only a confident match notifies. Passages whose text was already in the library (the
unchanged part of a replaced document) never do.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from acuerdo.index.corpus import Corpus, PassageRecord, load_corpus, update_corpus
from acuerdo.index.hits import Hit
from acuerdo.index.models import Document, Notification, Passage, Subscription
from acuerdo.index.retrieval import Retriever


@dataclass(frozen=True)
class _Match:
    subscription_id: int | None
    topic: str | None
    hit: Hit
    confidence: float


class TopicMatcher:
    """Writes the notifications for one stored document (called by `DocumentWriter`)."""

    def __init__(
        self,
        retriever: Retriever,
        current: Callable[[], Corpus | None],
        *,
        dim: int,
    ) -> None:
        self._retriever = retriever
        self._current = current
        self._dim = dim

    def __call__(self, session: Session, document: Document, new_ids: Collection[int]) -> int:
        """Queue the notifications `document` earns; returns how many."""
        subscriptions = session.execute(select(Subscription).order_by(Subscription.id)).scalars()
        by_topic: dict[str, list[Subscription]] = {}
        everyone: list[Subscription] = []
        for row in subscriptions:
            (everyone if row.everything else by_topic.setdefault(row.topic_key, [])).append(row)
        if not new_ids or not (by_topic or everyone):
            return 0
        best: dict[int, _Match] = {}
        if by_topic:
            corpus = self._corpus_after(session)
            for rows in by_topic.values():
                result = self._retriever.search(corpus, rows[0].topic, k=1, among=new_ids)
                if not result.answered or not result.hits:
                    continue  # tentative matches are not worth a message
                top = result.hits[0]
                hit = replace(top, heading=corpus.records[top.passage_id].heading)
                for row in rows:
                    known = best.get(row.chat_id)
                    if known is None or result.confidence > known.confidence:
                        best[row.chat_id] = _Match(row.id, row.topic, hit, result.confidence)
        fresh = set(new_ids)
        first = min((p for p in document.passages if p.id in fresh), key=lambda p: p.ordinal)
        for row in everyone:
            best.setdefault(row.chat_id, _Match(row.id, None, _first_hit(document, first), 0.0))
        session.add_all(_notification(chat_id, document, m) for chat_id, m in best.items())
        return len(best)

    def _corpus_after(self, session: Session) -> Corpus:
        """The library including this transaction's changes (read through its own session)."""
        current = self._current()
        corpus = None
        if current is not None:
            corpus = update_corpus(session, current)
        if corpus is None:
            corpus = load_corpus(session, dim=self._dim)
        return corpus


def _first_hit(document: Document, passage: Passage) -> Hit:
    return Hit.of_passage(
        PassageRecord(
            passage.id,
            document.id,
            document.title,
            passage.ordinal,
            passage.paragraph,
            passage.text,
            passage.heading,
        )
    )


def _notification(chat_id: int, document: Document, match: _Match) -> Notification:
    hit = match.hit
    return Notification(
        chat_id=chat_id,
        document_id=document.id,
        document_title=document.title,
        topic=match.topic,
        subscription_id=match.subscription_id,
        passage_id=hit.passage_id,
        paragraph=hit.paragraph,
        text=hit.text,
        heading=hit.heading,
        highlight_start=hit.highlight[0] if hit.highlight else None,
        highlight_end=hit.highlight[1] if hit.highlight else None,
    )
