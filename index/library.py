"""The service every front end calls: documents in, questions answered, usage out."""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from index import storage
from index.calibration import Calibration
from index.cohort import Cohort
from index.config import Settings
from index.corpus import Corpus, load_corpus, read_state, save_corpus, update_corpus
from index.db import GuardedSession, SessionFactory, guarded, open_database, read_snapshot
from index.embedding import Embedder, load_embedder
from index.errors import EmptyQuestionError, NotFoundError, StorageError
from index.follow_matching import TopicMatcher
from index.hits import AddResult, Answer, DocumentInfo, Hit, PassageView, Stats
from index.ingest import PreparedDocument, Progress
from index.models import Passage, QueryLog
from index.outbox import Outbox
from index.ownership import hash_owner, hash_user, owns, shown_passages
from index.querylog import LoggedQuestion, QueryLogWriter
from index.question_text import clean_question
from index.retrieval import Retriever
from index.sandbox import ReadLimits
from index.saver import BackgroundSaver
from index.subscriptions import Subscriptions
from index.use_encoder import load_secondary
from index.writer import DocumentWriter, Notice

log = logging.getLogger(__name__)


class Library:
    """Documents, passages and questions; the database is the truth, indexes are caches."""

    def __init__(
        self,
        sessions: SessionFactory,
        embedder: Embedder,
        *,
        data_dir: Path,
        batch_size: int = 32,
        secondary: Embedder | None = None,
        retriever: Retriever | None = None,
        read_limits: ReadLimits | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._secondary = secondary
        self._retriever = retriever or Retriever(
            embedder,
            secondary=secondary,
            cohort=Cohort.for_embedder(embedder, cache_dir=data_dir / "cache"),
            calibration=calibration,
        )
        self._data_dir = data_dir
        self._batch_size = batch_size
        self._refresh_lock = threading.Lock()
        self._notice: Notice | None = None
        self._corpus: Corpus | None = None
        self._model_mismatch: str | None = None
        self._saver = BackgroundSaver()
        self._log = QueryLogWriter(sessions)
        self._writer = DocumentWriter(
            sessions,
            embedder,
            secondary=secondary,
            batch_size=batch_size,
            read_limits=read_limits,
            on_stored=TopicMatcher(
                self._retriever, lambda: self._corpus, dim=embedder.dim, secondary=secondary
            ),
        )
        self.subscriptions = Subscriptions(sessions)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        secondary: Embedder | Literal["auto"] | None = "auto",
        notice: Notice | None = None,
        calibration: Calibration | None = None,
    ) -> Library:
        """Connect, load the model, index the seeds on first run and load the search index.

        `calibration` replaces the answer policy fitted for the model (experiments, tests).
        """
        sessions = open_database(settings.resolved_database_url)
        if embedder is None:
            embedder = load_embedder(
                settings.embedding_model,
                query_prompt=settings.query_prompt,
                passage_prompt=settings.passage_prompt,
                batch_size=settings.embed_batch_size,
            )
        if secondary == "auto":
            secondary = load_secondary(
                settings.secondary_model, cache_dir=settings.data_dir / "cache"
            )
        library = cls(
            sessions,
            embedder,
            data_dir=settings.data_dir,
            batch_size=settings.embed_batch_size,
            secondary=secondary,
            read_limits=settings.read_limits,
            calibration=calibration,
        )
        library._notice = notice
        library.initialise(seeds_dir=settings.resolved_seeds_dir, notice=notice)
        return library

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def secondary(self) -> Embedder | None:
        return self._secondary

    def outbox(self, *, lease_seconds: float = 60.0, max_attempts: int = 5) -> Outbox:
        """The notifications waiting to be sent (for the bot's sender)."""
        return Outbox(self._sessions, lease_seconds=lease_seconds, max_attempts=max_attempts)

    @property
    def vector_file(self) -> Path:
        return self._data_dir / "vectors.faiss"

    # Read-only views of the parts, for tests and tools (benchmarks) that look beneath `ask`;
    # front ends go through the methods above and below.
    @property
    def sessions(self) -> SessionFactory:
        """The database's session factory (its engine is `sessions.kw["bind"]`)."""
        return self._sessions

    @property
    def retriever(self) -> Retriever:
        """The ranking stage `ask` runs on each corpus snapshot."""
        return self._retriever

    # -- start-up -------------------------------------------------------------------------------

    def initialise(self, *, seeds_dir: Path | None, notice: Notice | None = None) -> None:
        """Create the state row, re-embed after a model change, seed once, load the corpus."""
        with self._db() as session, session.begin():
            state = storage.ensure_state(session, self._embedder.model_id)
            stored_model, seeded = state.model_id, state.seeded
        if stored_model != self._embedder.model_id:
            if notice:
                notice(
                    f"El modelo cambió ({stored_model} → {self._embedder.model_id}): re-embebiendo."
                )
            self._writer.reembed()
        self._writer.backfill_secondary(notice)
        if not seeded:
            self._writer.seed(seeds_dir, notice)
        self.refresh(notice=notice)
        self._log.reserve()

    # -- reading --------------------------------------------------------------------------------

    def corpus(self) -> Corpus:
        """The current snapshot (loaded on first use)."""
        if self._corpus is None:
            self.refresh(force=True)
        assert self._corpus is not None
        return self._corpus

    def refresh(self, *, force: bool = False, notice: Notice | None = None) -> bool:
        """Reload the search indexes from the database if its version moved; True if it did."""
        with self._refresh_lock:
            with self._db() as session:
                read_snapshot(session)
                state = read_state(session)
                version = state.version if state else 0
                model = state.model_id if state else ""
                if model and model != self._embedder.model_id:
                    # Another replica re-embedded with a different model: our question vectors
                    # would be compared with theirs. Keep serving what we have until restarted.
                    log.warning(
                        "the index now uses %s but this process encodes with %s; restart it "
                        "with the same ACUERDO_EMBEDDING_MODEL",
                        model,
                        self._embedder.model_id,
                    )
                    self._model_mismatch = model
                    return False
                self._model_mismatch = None
                current = self._corpus
                if (
                    not force
                    and current
                    and (current.version, current.model_id) == (version, model)
                ):
                    return False
                corpus = None
                if current is not None and not force:
                    corpus = update_corpus(session, current, secondary=self._secondary)
                    if corpus is not None:
                        self._saver.submit(
                            functools.partial(
                                save_corpus, corpus, self.vector_file, secondary=self._secondary
                            )
                        )
                if corpus is None:
                    corpus = load_corpus(
                        session,
                        dim=self._embedder.dim,
                        secondary=self._secondary,
                        vector_file=self.vector_file,
                        on_rebuild=notice,
                    )
            self._corpus = corpus
            return True

    def ask(
        self,
        question: str,
        *,
        k: int = 5,
        user_id: int | str | None = None,
        chat_id: int | str | None = None,
        channel: str = "cli",
        explain: bool = False,
    ) -> Answer:
        """Search, decide whether to answer, and log the question as asked by `user_id` in
        `chat_id` (only they may replay or rate the answer later). With `explain`, `candidates`
        describes the whole fused head (to fit a ranker), not only the first passage."""
        text = clean_question(question)
        if not text:
            raise EmptyQuestionError("La pregunta está vacía: escriba unas palabras.")
        started = time.perf_counter()
        corpus = self.corpus()
        result = self._retriever.search(corpus, text, k=k, explain=explain)
        latency_ms = (time.perf_counter() - started) * 1000
        hits = tuple(replace(h, heading=corpus.records[h.passage_id].heading) for h in result.hits)
        query_id = self._log.record(
            LoggedQuestion(
                question=text[:2000],
                user_hash=hash_user(user_id),
                owner_hash=hash_owner(user_id, chat_id),
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

    def flush_log(self, timeout: float = 5.0) -> bool:
        """Write the questions still queued for the query log; False if the database refused."""
        return self._log.flush(timeout)

    def close(self) -> None:
        """Write what is still queued (query log, index files); the library stays usable."""
        self._log.close()
        self._saver.wait()

    def replay(
        self, query_id: int, *, user_id: int | str, chat_id: int | str | None = None
    ) -> Answer:
        """A logged answer again ("Otro pasaje" after a restart); removed passages are skipped.

        Only for whoever asked it, where they asked it: anyone else gets the same NotFoundError
        as for an id that never existed.
        """
        self._log.flush()
        with self._db() as session:
            entry = session.get(QueryLog, query_id)
            if entry is None or not owns(entry, user_id=user_id, chat_id=chat_id):
                raise NotFoundError("Esa respuesta ya no está disponible; vuelva a preguntar.")
            question, answered, confidence = entry.question, entry.answered, entry.confidence
            tentative = bool(entry.tentative)
            ids = [int(x) for x in entry.passage_ids.split(",") if x]
        corpus = self.corpus()
        hits = tuple(self._hit(corpus, pid, question) for pid in ids if pid in corpus.records)
        return Answer(
            question, answered, hits, confidence or 0.0, query_id=query_id, tentative=tentative
        )

    def _hit(self, corpus: Corpus, passage_id: int, question: str | None = None) -> Hit:
        record = corpus.records[passage_id]
        highlight = self._retriever.highlight(corpus, question, record.text) if question else None
        return Hit(
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

    def passage(self, passage_id: int) -> PassageView:
        """One passage with the ids of its neighbours in the same document."""
        corpus = self.corpus()
        if passage_id not in corpus.records:
            raise NotFoundError("Ese pasaje no existe o fue retirado.")
        record = corpus.records[passage_id]
        with self._db() as session:
            rows = session.execute(
                select(Passage.ordinal, Passage.id).where(
                    Passage.document_id == record.document_id,
                    Passage.ordinal.in_([record.ordinal - 1, record.ordinal + 1]),
                )
            ).all()
        neighbours = {ordinal: pid for ordinal, pid in rows}
        return PassageView(
            hit=self._hit(corpus, passage_id),
            previous_id=neighbours.get(record.ordinal - 1),
            next_id=neighbours.get(record.ordinal + 1),
        )

    def documents(self) -> list[DocumentInfo]:
        with self._db() as session:
            return storage.list_documents(session)

    def document_with_content(self, sha256: str) -> DocumentInfo | None:
        """The stored document whose text has this hash (`PreparedDocument.sha256`), if any."""
        with self._db() as session:
            found = storage.find_by_hash(session, sha256)
            return None if found is None else storage.document_info(session, found)

    def documents_titled(self, title: str) -> list[DocumentInfo]:
        """Documents with this title (case-insensitive), to ask before adding a namesake."""
        with self._db() as session:
            return [
                storage.document_info(session, d) for d in storage.find_by_title(session, title)
            ]

    def stats(self, *, top: int = 5) -> Stats:
        self._log.flush()
        with self._db() as session:
            documents, passages = storage.count_corpus(session)
            questions, answered, tentative = storage.count_queries(session)
            helpful, not_helpful = storage.count_feedback(session)
            unanswered = tuple(storage.top_unanswered(session, top))
        following = self.subscriptions.counts()
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

    def feedback(
        self,
        query_id: int,
        *,
        user_id: int | str,
        chat_id: int | str | None = None,
        helpful: bool,
        passage_id: int | None = None,
    ) -> bool:
        """Record 👍/👎 of the asker on a passage their answer showed; False otherwise (unknown
        answer, somebody else's, or a passage it never showed)."""
        self._log.flush()
        with self._db() as session, session.begin():
            entry = session.get(QueryLog, query_id)
            if entry is None or not owns(entry, user_id=user_id, chat_id=chat_id):
                return False
            if passage_id is not None and passage_id not in shown_passages(entry):
                return False
            return storage.record_feedback(
                session,
                query_id=query_id,
                user_hash=hash_user(user_id) or "",
                helpful=helpful,
                passage_id=passage_id,
            )

    def wait_for_files(self) -> None:
        """Block until the index files reflect the served snapshot (they are written behind)."""
        self._saver.wait()

    def health(self) -> dict[str, object]:
        """Database reachability and index readiness, for /healthz."""
        corpus = self._corpus
        database = True
        version: int | None = None
        try:
            with self._db() as session:
                state = read_state(session)
                version = state.version if state else None
        except StorageError:
            database = False
        return {
            "ok": database and corpus is not None and self._model_mismatch is None,
            "model_mismatch": self._model_mismatch,
            "database": database,
            "index_ready": corpus is not None,
            "index_version": corpus.version if corpus else None,
            "database_version": version,
            "passages": len(corpus) if corpus else 0,
            "query_log_pending": self._log.pending,
        }

    # -- writing --------------------------------------------------------------------------------

    def add_document(
        self,
        name: str,
        data: bytes,
        *,
        title: str | None = None,
        replace_id: int | None = None,
        progress: Progress | None = None,
    ) -> AddResult:
        """`prepare_document`, then `add_prepared`."""
        prepared = self.prepare_document(name, data, title=title)
        return self.add_prepared(prepared, replace_id=replace_id, progress=progress)

    def prepare_document(
        self, name: str, data: bytes, *, title: str | None = None
    ) -> PreparedDocument:
        """Bound, read, parse and chunk a file within the configured limits, storing nothing.

        The one parse of an upload: front ends show the result (title, namesakes) and hand it
        to `add_prepared` unchanged.
        """
        return self._writer.prepare(name, data, title=title)

    def prepare_path(self, path: Path, *, title: str | None = None) -> PreparedDocument:
        """`prepare_document` for a file on disk, read within the size and time limits."""
        return self._writer.prepare_path(path, title=title)

    def add_prepared(
        self,
        prepared: PreparedDocument,
        *,
        replace_id: int | None = None,
        progress: Progress | None = None,
    ) -> AddResult:
        """Embed (new passages only; `progress` gets done/total) and store a prepared document
        in one transaction, then refresh the index so questions see it."""
        result = self._writer.add_prepared(prepared, replace_id=replace_id, progress=progress)
        self.refresh()
        return result

    def add_path(
        self, path: Path, *, title: str | None = None, progress: Progress | None = None
    ) -> AddResult:
        """`prepare_path`, then `add_prepared`."""
        return self.add_prepared(self.prepare_path(path, title=title), progress=progress)

    def remove_document(
        self, document_id: int, *, sha256_prefix: str | None = None
    ) -> DocumentInfo:
        """Delete a document with its passages and vectors (only if its content hash starts with
        `sha256_prefix`, when given: NotFoundError otherwise)."""
        info = self._writer.remove_document(document_id, sha256_prefix=sha256_prefix)
        self.refresh()
        return info

    def rebuild(self, *, progress: Progress | None = None, notice: Notice | None = None) -> int:
        """Re-read, re-chunk and re-embed every document; the old index serves until the swap.

        Votes and logged questions stay, pointing at the passages that now hold their text.
        """
        self._log.flush()  # logged answers must be in the database to follow their passages
        count = self._writer.rebuild(progress=progress, notice=notice or self._notice)
        self.refresh()
        return count

    # -- plumbing -------------------------------------------------------------------------------

    def _db(self) -> GuardedSession:
        return guarded(self._sessions)
