"""What the library reports of its use: figures for admins, and the askers' votes on answers.

Both flush the query log first, so they see every question asked so far.
"""

from __future__ import annotations

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.hits import Stats
from acuerdo.index.models import QueryLog
from acuerdo.index.ownership import owns, shown_passages
from acuerdo.index.pseudonyms import Pseudonyms
from acuerdo.index.querylog import QueryLogWriter
from acuerdo.index.subscriptions import Subscriptions


class Usage:
    """Counts over the documents, the query log, the votes and the subscriptions."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        query_log: QueryLogWriter,
        subscriptions: Subscriptions,
        pseudonyms: Pseudonyms,
    ) -> None:
        self._sessions = sessions
        self._pseudonyms = pseudonyms
        self._log = query_log
        self._subscriptions = subscriptions

    def stats(self, *, top: int) -> Stats:
        """Documents, passages, questions, votes, the `top` unanswered questions and followers."""
        self._log.flush()
        with guarded(self._sessions) as session:
            documents, passages = storage.count_corpus(session)
            questions, answered, tentative = storage.count_queries(session)
            helpful, not_helpful = storage.count_feedback(session)
            unanswered = tuple(storage.top_unanswered(session, top))
        following = self._subscriptions.counts()
        return Stats(
            documents,
            passages,
            questions,
            answered,
            helpful,
            not_helpful,
            unanswered,
            tentative=tentative,
            subscribers=following.subscribers,
            topics=following.topics,
            following_everything=following.everything,
            notifications_pending=following.pending,
        )

    def vote(
        self,
        query_id: int,
        *,
        user_id: int | str,
        chat_id: int | str | None,
        helpful: bool,
        passage_id: int | None,
    ) -> bool:
        """Record 👍/👎 of the asker on a passage their answer showed; False otherwise (unknown
        answer, somebody else's, or a passage it never showed: an answer that found nothing
        showed none). Without `passage_id`, the vote is on the answer as a whole."""
        asker = self._pseudonyms.asker(user_id, chat_id)
        self._log.flush()
        with guarded(self._sessions) as session, session.begin():
            entry = session.get(QueryLog, query_id)
            if entry is None or not owns(entry, asker):
                return False
            if passage_id is not None and passage_id not in shown_passages(entry):
                return False
            return storage.record_feedback(
                session,
                query_id=query_id,
                user_hash=asker.user_hash or "",
                helpful=helpful,
                passage_id=passage_id,
            )
