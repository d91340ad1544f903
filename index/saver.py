"""Writes index files in the background, newest snapshot only, so a change is served at once.

Serialising two FAISS indexes of 100k passages takes ~2 s, the whole budget for making an upload
searchable (benchmarks/scale.py). The files are a cache checked against the database on start, so
a late write only means a rebuild; the thread is not a daemon, so a CLI command still finishes
writing before it exits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundSaver:
    """Runs the most recently submitted job on one thread; older pending jobs are dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="index-saver")
                self._thread.start()

    def wait(self) -> None:
        """Block until every submitted job has run."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._thread = None
                    return
            try:
                job()
            except Exception:  # a cache write failing must not stop the service
                log.warning("could not save the index files", exc_info=True)
