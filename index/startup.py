"""Bringing the store up to date when a process starts: the state row, re-embedding after a
model change, and the seed documents, indexed once.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.errors import DocumentError
from acuerdo.index.loaders import SUPPORTED_EXTENSIONS
from acuerdo.index.reembedding import Reembedder
from acuerdo.index.writer import DocumentWriter, Notice

log = logging.getLogger(__name__)


def bring_store_up_to_date(
    sessions: SessionFactory,
    *,
    model_id: str,
    writer: DocumentWriter,
    reembedder: Reembedder,
    seeds_dir: Path | None,
    notice: Notice | None = None,
) -> None:
    """Create the state row, re-embed after a model change, seed once."""
    with guarded(sessions) as session, session.begin():
        state = storage.ensure_state(session, model_id)
        stored_model, seeded = state.model_id, state.seeded
    if stored_model != model_id:
        if notice:
            notice(f"El modelo cambió ({stored_model} → {model_id}): re-embebiendo.")
        reembedder.reembed()
    if not seeded:
        seed(sessions, writer, seeds_dir, notice)


def seed(
    sessions: SessionFactory,
    writer: DocumentWriter,
    seeds_dir: Path | None,
    notice: Notice | None,
) -> None:
    """Index the seed documents, then remember it: removed seeds never come back.

    The flag is set only after the documents are in, so a crash mid-way seeds again on the
    next start; replicas seeding together are harmless (identical content is added once).
    A seed that cannot be read is skipped with a warning (each document is one transaction, so
    nothing of it is stored) and the others are indexed; seeding is still remembered, since
    trying again at every start would bring back the seeds an admin removed meanwhile (and
    alert their followers each time): the admin adds the fixed file with `index add`.
    """
    try:
        files = seed_files(seeds_dir)
    except DocumentError as exc:
        _warn(f"Aviso: no he indexado los documentos iniciales. {exc}", notice)
        return
    for path, title in files:
        if notice:
            notice(f"Indexando el documento inicial «{title or path.name}»…")
        try:
            writer.add_prepared(writer.prepare_path(path, title=title))
        except DocumentError as exc:
            _warn(
                f"Aviso: he omitido el documento inicial «{path.name}» de ACUERDO_SEEDS_DIR "
                f"({seeds_dir}): {str(exc).rstrip('.')}. Corríjalo y añádalo con "
                "«acuerdo index add»; no se volverá a intentar solo.",
                notice,
            )
    with guarded(sessions) as session, session.begin():
        storage.lock_state(session).seeded = True


def _warn(message: str, notice: Notice | None) -> None:
    if notice:
        notice(message)
    else:
        log.warning("%s", message)


def seed_files(seeds_dir: Path | None) -> list[tuple[Path, str | None]]:
    """Seed documents with their titles from `manifest.json`, or every supported file."""
    if seeds_dir is None or not seeds_dir.is_dir():
        return []
    manifest = seeds_dir / "manifest.json"
    if manifest.is_file():
        try:
            entries = json.loads(manifest.read_text(encoding="utf-8"))
            files = [(seeds_dir / e["file"], e.get("title")) for e in entries]
            if any(not isinstance(title, str | None) for _, title in files):
                raise TypeError("a title that is not text")
            return files
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DocumentError(
                f"No puedo leer {manifest} (de ACUERDO_SEEDS_DIR): debe ser una lista JSON, en "
                'UTF-8, de objetos {"file": …, "title": …}; corríjalo o quítelo.'
            ) from exc
    return [
        (p, None)
        for p in sorted(seeds_dir.iterdir())
        if p.suffix.lower() in SUPPORTED_EXTENSIONS and p.is_file()
    ]
