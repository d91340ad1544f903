"""The corpus snapshot a process serves, kept in step with the database's index version.

A change made anywhere (this process, another replica, the CLI) bumps the version; `refresh`
applies it incrementally when it can, reloads in full when it must, and writes the index files
behind so the change is served at once (index/saver.py).
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from acuerdo.index.corpus import Corpus, load_corpus, read_state, save_corpus, update_corpus
from acuerdo.index.db import SessionFactory, guarded, read_snapshot
from acuerdo.index.embedding import Embedder
from acuerdo.index.errors import StorageError
from acuerdo.index.saver import BackgroundSaver
from acuerdo.index.writer import Notice

log = logging.getLogger(__name__)


class ServedCorpus:
    """The current `Corpus` (loaded on first use) and the files caching it on disk."""

    def __init__(
        self,
        sessions: SessionFactory,
        embedder: Embedder,
        *,
        vector_file: Path,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._vector_file = vector_file
        self._lock = threading.Lock()
        self._corpus: Corpus | None = None
        self._model_mismatch: str | None = None
        self._saver = BackgroundSaver()

    @property
    def current(self) -> Corpus | None:
        """The snapshot served now, None before the first load."""
        return self._corpus

    @property
    def model_mismatch(self) -> str | None:
        """The model another replica re-embedded with, while this process encodes with another."""
        return self._model_mismatch

    def get(self) -> Corpus:
        """The current snapshot (loaded on first use)."""
        if self._corpus is None:
            self.refresh(force=True)
        assert self._corpus is not None
        return self._corpus

    def refresh(self, *, force: bool = False, notice: Notice | None = None) -> bool:
        """Reload the search indexes from the database if its version moved; True if it did."""
        with self._lock:
            with guarded(self._sessions) as session:
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
                    corpus = update_corpus(session, current)
                    if corpus is not None:
                        self._saver.submit(
                            functools.partial(save_corpus, corpus, self._vector_file)
                        )
                if corpus is None:
                    corpus = load_corpus(
                        session,
                        dim=self._embedder.dim,
                        vector_file=self._vector_file,
                        on_rebuild=notice,
                    )
            self._corpus = corpus
            return True

    def wait_for_files(self) -> None:
        """Block until the index files reflect the served snapshot (they are written behind)."""
        self._saver.wait()

    def health(self, *, query_log_pending: int) -> dict[str, object]:
        """The /healthz body: ready when the database answers, a snapshot is served and the
        models agree."""
        corpus = self._corpus
        database = True
        version: int | None = None
        try:
            with guarded(self._sessions) as session:
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
            "query_log_pending": query_log_pending,
        }
