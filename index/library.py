"""The service every front end calls: documents in, questions answered, usage out."""

from __future__ import annotations

from pathlib import Path

from acuerdo.index.answering import Answerer
from acuerdo.index.calibration import Calibration
from acuerdo.index.catalogue import Catalogue
from acuerdo.index.cohort import Cohort
from acuerdo.index.config import Settings
from acuerdo.index.corpus import Corpus
from acuerdo.index.db import SessionFactory, open_database
from acuerdo.index.embedding import Embedder, load_embedder
from acuerdo.index.follow_matching import TopicMatcher
from acuerdo.index.hits import AddResult, Answer, DocumentInfo, PassageView, Stats
from acuerdo.index.ingest import PreparedDocument, Progress
from acuerdo.index.outbox import Outbox
from acuerdo.index.pseudonyms import load_pseudonyms
from acuerdo.index.querylog import QueryLogWriter
from acuerdo.index.reembedding import writers
from acuerdo.index.retrieval import Retriever
from acuerdo.index.sandbox import ReadLimits
from acuerdo.index.served_corpus import ServedCorpus
from acuerdo.index.startup import bring_store_up_to_date
from acuerdo.index.subscriptions import Subscriptions
from acuerdo.index.usage import Usage
from acuerdo.index.writer import Notice


class Library:
    """Documents, passages and questions; the database is the truth, indexes are caches."""

    def __init__(
        self,
        sessions: SessionFactory,
        embedder: Embedder,
        *,
        data_dir: Path,
        batch_size: int = 32,
        retriever: Retriever | None = None,
        read_limits: ReadLimits | None = None,
        calibration: Calibration | None = None,
        pseudonym_key: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._pseudonyms = load_pseudonyms(sessions, data_dir, pseudonym_key)
        self._embedder = embedder
        self._retriever = retriever or Retriever(
            embedder,
            cohort=Cohort.for_embedder(embedder, cache_dir=data_dir / "cache"),
            calibration=calibration,
        )
        self._data_dir = data_dir
        self._notice: Notice | None = None
        self._served = ServedCorpus(sessions, embedder, vector_file=self.vector_file)
        self._log = QueryLogWriter(sessions)
        self._answerer = Answerer(
            sessions,
            self._served,
            self._retriever,
            query_log=self._log,
            pseudonyms=self._pseudonyms,
        )
        self._catalogue = Catalogue(sessions, self._served)
        self._writer, self._reembedder = writers(
            sessions,
            embedder,
            batch_size=batch_size,
            read_limits=read_limits,
            on_stored=TopicMatcher(self._retriever, lambda: self._served.current, dim=embedder.dim),
        )
        self.subscriptions = Subscriptions(sessions)
        self._usage = Usage(
            sessions,
            query_log=self._log,
            subscriptions=self.subscriptions,
            pseudonyms=self._pseudonyms,
        )

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        notice: Notice | None = None,
        calibration: Calibration | None = None,
    ) -> Library:
        """Connect, load the model, index the seeds on first run and load the search index;
        `calibration` replaces the answer policy fitted for the model (experiments, tests)."""
        settings.ensure_data_dir()
        sessions = open_database(settings.resolved_database_url)
        if embedder is None:
            embedder = load_embedder(
                settings.embedding_model,
                query_prompt=settings.query_prompt,
                passage_prompt=settings.passage_prompt,
                batch_size=settings.embed_batch_size,
            )
        library = cls(
            sessions,
            embedder,
            data_dir=settings.data_dir,
            batch_size=settings.embed_batch_size,
            read_limits=settings.read_limits,
            calibration=calibration,
            pseudonym_key=key.get_secret_value() if (key := settings.pseudonym_key) else None,
        )
        library._notice = notice
        library.initialise(seeds_dir=settings.resolved_seeds_dir, notice=notice)
        return library

    @property
    def embedder(self) -> Embedder:
        return self._embedder

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

    def initialise(self, *, seeds_dir: Path | None, notice: Notice | None = None) -> None:
        """Create the state row, re-embed after a model change, seed once, load the corpus."""
        bring_store_up_to_date(
            self._sessions,
            model_id=self._embedder.model_id,
            writer=self._writer,
            reembedder=self._reembedder,
            seeds_dir=seeds_dir,
            notice=notice,
        )
        self.refresh(notice=notice)
        self._log.reserve()

    def check_pseudonyms(self, *, notice: Notice | None = None) -> None:
        """Check the askers' pseudonyms' key against the database now, not at the first question
        (front ends serving people call it at start); SettingsError if it is not the DB's."""
        if (converted := self._pseudonyms.check()) and notice:
            notice(f"Seudónimos de {converted} registros protegidos con clave.")

    def corpus(self) -> Corpus:
        """The current snapshot (loaded on first use)."""
        return self._served.get()

    def refresh(self, *, force: bool = False, notice: Notice | None = None) -> bool:
        """Reload the search indexes from the database if its version moved; True if it did."""
        return self._served.refresh(force=force, notice=notice)

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
        return self._answerer.ask(
            question, k=k, user_id=user_id, chat_id=chat_id, channel=channel, explain=explain
        )

    def flush_log(self, timeout: float = 5.0) -> bool:
        """Write the questions still queued for the query log; False if the database refused."""
        return self._log.flush(timeout)

    def close(self) -> None:
        """Write what is still queued (query log, index files); the library stays usable."""
        self._log.close()
        self._served.wait_for_files()

    def replay(
        self, query_id: int, *, user_id: int | str, chat_id: int | str | None = None
    ) -> Answer:
        """A logged answer again ("Otro pasaje" after a restart), removed passages skipped; only
        for whoever asked it where they asked it (others get NotFoundError, as for no such id)."""
        return self._answerer.replay(query_id, user_id=user_id, chat_id=chat_id)

    def passage(self, passage_id: int) -> PassageView:
        """One passage with the ids of its neighbours in the same document."""
        return self._catalogue.passage(passage_id)

    def documents(self) -> list[DocumentInfo]:
        return self._catalogue.documents()

    def document_with_content(self, sha256: str) -> DocumentInfo | None:
        """The stored document whose text has this hash (`PreparedDocument.sha256`), if any."""
        return self._catalogue.with_content(sha256)

    def documents_titled(self, title: str) -> list[DocumentInfo]:
        """Documents with this title (case-insensitive), to ask before adding a namesake."""
        return self._catalogue.titled(title)

    def stats(self, *, top: int = 5) -> Stats:
        return self._usage.stats(top=top)

    def feedback(
        self,
        query_id: int,
        *,
        user_id: int | str,
        chat_id: int | str | None = None,
        helpful: bool,
        passage_id: int | None = None,
    ) -> bool:
        """Record 👍/👎 of the asker on a passage their answer showed (False if it cannot)."""
        return self._usage.vote(
            query_id, user_id=user_id, chat_id=chat_id, helpful=helpful, passage_id=passage_id
        )

    def wait_for_files(self) -> None:
        """Block until the index files reflect the served snapshot (they are written behind)."""
        self._served.wait_for_files()

    def health(self) -> dict[str, object]:
        """Database reachability and index readiness, for /healthz."""
        return self._served.health(query_log_pending=self._log.pending)

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
        """Bound, read, parse and chunk a file within the configured limits, storing nothing: the
        one parse of an upload, which front ends show and hand to `add_prepared` unchanged."""
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
        Votes and logged questions stay, pointing at the passages that now hold their text."""
        self._log.flush()  # logged answers must be in the database to follow their passages
        count = self._reembedder.rebuild(progress=progress, notice=notice or self._notice)
        self.refresh()
        return count
