"""Answering questions: search the served snapshot, log who asked, show the answer again later.

Every answer is logged with pseudonyms of its asker and chat, so only they may replay it ("Otro
pasaje" after a restart) or rate it (index/usage.py).
"""

from __future__ import annotations

import time
from dataclasses import replace

from acuerdo.index.corpus import Corpus
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.errors import EmptyQuestionError, NotFoundError
from acuerdo.index.hits import Answer, Hit
from acuerdo.index.models import QueryLog
from acuerdo.index.ownership import owns
from acuerdo.index.pseudonyms import Pseudonyms
from acuerdo.index.querylog import LoggedQuestion, QueryLogWriter
from acuerdo.index.question_text import clean_question
from acuerdo.index.retrieval import Retriever
from acuerdo.index.served_corpus import ServedCorpus


class Answerer:
    """Runs the retriever on the served snapshot and turns what it finds into `Answer`s."""

    def __init__(
        self,
        sessions: SessionFactory,
        served: ServedCorpus,
        retriever: Retriever,
        *,
        query_log: QueryLogWriter,
        pseudonyms: Pseudonyms,
    ) -> None:
        self._sessions = sessions
        self._served = served
        self._retriever = retriever
        self._log = query_log
        self._pseudonyms = pseudonyms

    def ask(
        self,
        question: str,
        *,
        k: int,
        user_id: int | str | None,
        chat_id: int | str | None,
        channel: str,
        explain: bool,
    ) -> Answer:
        """Search, decide whether to answer, and log the question (see `Library.ask`)."""
        text = clean_question(question)
        if not text:
            raise EmptyQuestionError("La pregunta está vacía: escriba unas palabras.")
        started = time.perf_counter()
        corpus = self._served.get()
        result = self._retriever.search(corpus, text, k=k, explain=explain)
        latency_ms = (time.perf_counter() - started) * 1000
        hits = tuple(replace(h, heading=corpus.records[h.passage_id].heading) for h in result.hits)
        query_id = self._log.record(
            LoggedQuestion(
                question=text[:2000],
                user_hash=self._pseudonyms.user(user_id),
                owner_hash=self._pseudonyms.owner(user_id, chat_id),
                channel=channel,
                top_passage_id=result.hits[0].passage_id if result.hits else None,
                passage_ids=",".join(str(h.passage_id) for h in result.hits),
                top_score=result.hits[0].dense if result.hits else None,
                confidence=result.confidence,
                answered=result.answered,
                latency_ms=latency_ms,
                tentative=result.tentative,
            )
        )
        return Answer(
            question=text,
            answered=result.answered,
            hits=hits,
            confidence=result.confidence,
            query_id=query_id,
            latency_ms=latency_ms,
            tentative=result.tentative,
            evidence=result.features,
            candidates=result.candidates,
        )

    def replay(self, query_id: int, *, user_id: int | str, chat_id: int | str | None) -> Answer:
        """A logged answer again, for its asker only; removed passages are skipped."""
        asker = self._pseudonyms.asker(user_id, chat_id)
        self._log.flush()
        with guarded(self._sessions) as session:
            entry = session.get(QueryLog, query_id)
            if entry is None or not owns(entry, asker):
                raise NotFoundError("Esa respuesta ya no está disponible; vuelva a preguntar.")
            question, answered, confidence = entry.question, entry.answered, entry.confidence
            tentative = bool(entry.tentative)
            ids = [int(x) for x in entry.passage_ids.split(",") if x]
        corpus = self._served.get()
        hits = tuple(self._shown(corpus, pid, question) for pid in ids if pid in corpus.records)
        return Answer(
            question, answered, hits, confidence or 0.0, query_id=query_id, tentative=tentative
        )

    def _shown(self, corpus: Corpus, passage_id: int, question: str) -> Hit:
        record = corpus.records[passage_id]
        highlight = self._retriever.highlight(corpus, question, record.text) if question else None
        return Hit.of_passage(record, highlight=highlight)
