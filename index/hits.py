"""Result types handed to the adapters: frozen dataclasses, never tuples or dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Hit:
    """One passage found for a question, quoted verbatim, with the sentence to highlight."""

    passage_id: int
    document_id: int
    document_title: str
    paragraph: int
    ordinal: int
    text: str
    score: float
    dense: float
    lexical: float
    highlight: tuple[int, int] | None = None
    heading: str | None = None  # the headings above the passage, shown above the quote

    @property
    def highlighted_sentence(self) -> str:
        """The best-matching sentence (the whole passage when none was chosen)."""
        if self.highlight is None:
            return self.text
        start, end = self.highlight
        return self.text[start:end]


@dataclass(frozen=True)
class Answer:
    """What `Library.ask` returns: the ranked hits and whether they answer the question."""

    question: str
    answered: bool
    hits: tuple[Hit, ...]
    confidence: float
    query_id: int | None = None
    latency_ms: float = 0.0


@dataclass(frozen=True)
class DocumentInfo:
    """A document as listed to admins."""

    id: int
    title: str
    source_name: str
    passages: int
    added_at: datetime
    first_passage_id: int | None = None


@dataclass(frozen=True)
class AddResult:
    """The outcome of adding a document: `created` is False when identical content was there."""

    document: DocumentInfo
    created: bool
    reused_embeddings: int = 0


@dataclass(frozen=True)
class PassageView:
    """A passage with its neighbours' ids, for passage links and previous/next buttons."""

    hit: Hit
    previous_id: int | None
    next_id: int | None


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question users asked that found nothing, with how often."""

    question: str
    count: int


@dataclass(frozen=True)
class Stats:
    """Usage figures for admins."""

    documents: int
    passages: int
    questions: int
    answered: int
    helpful: int
    not_helpful: int
    top_unanswered: tuple[UnansweredQuestion, ...]

    @property
    def answered_share(self) -> float:
        return self.answered / self.questions if self.questions else 0.0
