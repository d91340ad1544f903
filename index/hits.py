"""Result types handed to the adapters: frozen dataclasses, never tuples or dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acuerdo.index.corpus import PassageRecord


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

    @classmethod
    def of_passage(cls, record: PassageRecord, *, highlight: tuple[int, int] | None = None) -> Hit:
        """A stored passage shown again (no scores): a replayed answer, or /pasaje."""
        return cls(
            passage_id=record.id,
            document_id=record.document_id,
            document_title=record.document_title,
            paragraph=record.paragraph,
            ordinal=record.ordinal,
            text=record.text,
            score=0.0,
            dense=0.0,
            lexical=0.0,
            highlight=highlight,
            heading=record.heading,
        )

    @property
    def highlighted_sentence(self) -> str:
        """The best-matching sentence (the whole passage when none was chosen)."""
        if self.highlight is None:
            return self.text
        start, end = self.highlight
        return self.text[start:end]


@dataclass(frozen=True)
class Answer:
    """What `Library.ask` returns: the ranked hits and what to do with them.

    One of three outcomes: `answered` (a confident quote: the first hit answers the question),
    `tentative` (the closest passages, offered as such: "no lo encontré dicho así"), or neither
    (nothing related enough to show). `confidence` is the calibrated probability that the first
    hit answers the question, in [0, 1], the same scale for every model and library size.
    """

    question: str
    answered: bool
    hits: tuple[Hit, ...]
    confidence: float
    query_id: int | None = None
    latency_ms: float = 0.0
    tentative: bool = False
    evidence: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)
    # The fused head before re-ranking, each passage with its features (to fit the ranker).
    candidates: tuple[tuple[int, Mapping[str, float]], ...] = field(
        default=(), compare=False, repr=False
    )

    @property
    def outcome(self) -> str:
        """ "confident", "tentative" or "nothing"."""
        if self.answered and self.hits:
            return "confident"
        if self.tentative and self.hits:
            return "tentative"
        return "nothing"

    @property
    def shows_passage(self) -> bool:
        """Whether a passage is quoted at all (confidently or tentatively)."""
        return self.outcome != "nothing"


@dataclass(frozen=True)
class DocumentInfo:
    """A document as listed to admins."""

    id: int
    title: str
    source_name: str
    passages: int
    added_at: datetime
    first_passage_id: int | None = None
    sha256: str = ""  # of its text: what a confirmation to remove it is bound to


@dataclass(frozen=True)
class AddResult:
    """The outcome of adding a document: `created` is False when identical content was there."""

    document: DocumentInfo
    created: bool
    reused_embeddings: int = 0
    notifications: int = 0  # messages queued for followers of its topics (index/outbox.py)
    # The document it replaced; None when none was asked for or it was already gone.
    replaced: int | None = None


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
    """Usage figures for admins: `answered` counts confident quotes, `tentative` the closest
    passages offered as such; the rest found nothing."""

    documents: int
    passages: int
    questions: int
    answered: int
    helpful: int
    not_helpful: int
    top_unanswered: tuple[UnansweredQuestion, ...]
    tentative: int = 0
    subscribers: int = 0  # chats following at least one topic (or every document)
    topics: int = 0  # distinct topics followed
    following_everything: int = 0
    notifications_pending: int = 0

    @property
    def answered_share(self) -> float:
        return self.answered / self.questions if self.questions else 0.0

    @property
    def nothing(self) -> int:
        return self.questions - self.answered - self.tentative
