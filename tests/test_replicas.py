"""Several replicas on one database: shared documents, logs and feedback, and races between writers.

Two real `acuerdo bot --webhook` processes share a PostgreSQL schema (upload through one, answer
from the other). In-process, `Library` objects with their own engines stand for replicas racing
each other on SQLite and on PostgreSQL: the database must stay consistent whoever wins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, event, select

from acuerdo.index import Library, ModelError
from acuerdo.index.db import open_database
from acuerdo.index.embedding import E5SmallEmbedder, Matrix
from acuerdo.index.models import Document, Feedback, IndexState, Passage, QueryLog
from acuerdo.index.storage import content_hash
from tests.botkit import ADMIN_ID
from tests.conftest import SEEDS, HashingEmbedder
from tests.fake_telegram import Call, FakeTelegram, no_proxy_env, parse_html

# --- two real replica processes ------------------------------------------------------------------

LONG_TOKEN = "515151:AAHreplicaTokenValue_for_tests-9876543210"
SECRET = "replica-secret"
USER = 4321
TITLE = "Acuerdo de riego de Mexicali"
IRRIGATION = (
    "El Consejo Binacional del Agua asignó 48 millones de metros cúbicos de agua de riego a los "
    "agricultores del Valle de Mexicali para el ciclo agrícola 2027.\n\n"
    "El canal Todo Americano tendrá compuertas automáticas pagadas por ambos gobiernos.\n\n"
    "Un comité de regantes vigilará el reparto del agua cada trimestre.\n"
)
QUESTION = "¿Cuántos metros cúbicos de agua de riego recibirá el Valle de Mexicali?"
FROM_NEW_DOCUMENT = "48 millones de metros cúbicos"
SEED_QUESTION = "¿qué dijeron sobre el fentanilo?"
PROPAGATION_LIMIT = 10.0  # seconds; replicas poll the index version every 0.5 s here

# Loaded into each replica through PYTHONPATH: appends "<encoder class> <n texts>" to a file
# whenever the process embeds passages (never for questions), so the test can tell who embedded.
SITECUSTOMIZE = """
import os

_log = os.environ.get("ACUERDO_TEST_EMBED_LOG")
if _log:
    import acuerdo.index.embedding as _embedding

    def _counting(cls):
        original = cls.embed_passages

        def embed_passages(self, texts):
            with open(_log, "a", encoding="utf-8") as handle:
                handle.write(f"{cls.__name__} {len(texts)}\\n")
            return original(self, texts)

        cls.embed_passages = embed_passages

    for _cls in (_embedding.E5SmallEmbedder, _embedding.SentenceTransformerEmbedder):
        _counting(_cls)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Replica:
    """One `acuerdo bot --webhook` process, its port and its logs."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    output: Path
    embed_log: Path

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg"

    def post(self, fake: FakeTelegram, update: dict[str, Any]) -> None:
        status = fake.post_webhook(self.webhook, update, SECRET)
        assert status == 200, f"{self.name} answered {status} to an update"

    def health(self) -> dict[str, Any] | None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:  # 503 while not ready: still a report
            return dict(json.loads(exc.read()))
        except OSError:
            return None

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def embedded(self) -> dict[str, int]:
        """Passages embedded by this process, per encoder class."""
        counts: dict[str, int] = {}
        if self.embed_log.exists():
            for line in self.embed_log.read_text(encoding="utf-8").splitlines():
                encoder, count = line.split()
                counts[encoder] = counts.get(encoder, 0) + int(count)
        return counts


PSEUDONYM_KEY = "replicas-share-this-pseudonym-key"


def _start_replica(
    name: str, tmp_path: Path, data_dir: Path, database_url: str, fake: FakeTelegram
) -> Replica:
    instrument = tmp_path / "instrument"
    instrument.mkdir(exist_ok=True)
    (instrument / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    port = free_port()
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACUERDO_", "TELEGRAM_", "DATABASE_URL", "PYTHONPATH"))
    }
    # The instrument first, then any outer PYTHONPATH (a checkout run without installing it).
    outer = os.environ.get("PYTHONPATH")
    environment.update(
        {
            "PYTHONPATH": os.pathsep.join([str(instrument), *([outer] if outer else [])]),
            "ACUERDO_TEST_EMBED_LOG": str(tmp_path / f"{name}.embedded"),
            "DATABASE_URL": database_url,
            "ACUERDO_DATA_DIR": str(data_dir),
            "ACUERDO_SEEDS_DIR": str(SEEDS),
            "ACUERDO_INDEX_POLL_SECONDS": "0.5",
            "ACUERDO_QUESTIONS_PER_MINUTE": "200",
            "TELEGRAM_BOT_TOKEN": LONG_TOKEN,
            "TELEGRAM_ADMIN_IDS": str(ADMIN_ID),
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_FILE_BASE_URL": fake.base_file_url,
            "TELEGRAM_WEBHOOK_PORT": str(port),
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            # Replicas share one key for the askers' pseudonyms (index/pseudonyms.py).
            "ACUERDO_PSEUDONYM_KEY": PSEUDONYM_KEY,
        }
    )
    output = tmp_path / f"{name}.log"
    with output.open("wb") as sink:  # a file, not a pipe: nobody has to keep draining it
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "acuerdo"), "bot", "--webhook"],
            cwd=tmp_path,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Replica(name, process, port, output, tmp_path / f"{name}.embedded")


def _wait_until_ready(replicas: Sequence[Replica], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(replicas)
    while waiting:
        for replica in list(waiting):
            if replica.process.poll() is not None:
                pytest.fail(f"replica {replica.name} exited at start:\n{replica.log()}")
            health = replica.health()
            if health is not None and health.get("ok"):
                waiting.remove(replica)
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {r.name}:\n{r.log()}" for r in waiting)
            pytest.fail(f"replicas never became healthy:\n{logs}")
        time.sleep(0.2)


def _stop(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.terminate()
        try:
            replica.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait(timeout=20)


def _plain(call: Call) -> str:
    text = call.get("text") or ""
    return parse_html(text)[0] if call.get("parse_mode") == "HTML" else text


def _buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def _to_chat(fake: FakeTelegram, chat_id: int, method: str = "sendMessage") -> list[Call]:
    return [c for c in fake.calls(method) if str(c.get("chat_id")) == str(chat_id)]


def _ask(fake: FakeTelegram, replica: Replica, text: str, user_id: int = USER) -> Call:
    """Post a private message to `replica` and return the answered reply it sends."""
    before = len(_to_chat(fake, user_id))
    replica.post(fake, fake.message(text, user_id=user_id, push=False))
    calls = fake.wait_for(
        "sendMessage",
        lambda c: str(c.get("chat_id")) == str(user_id) and c.status is not None,
        count=before + 1,
        timeout=30,
    )
    reply = calls[before]
    assert reply.ok, reply.error
    return reply


def _ask_until(
    fake: FakeTelegram, replica: Replica, wanted: Callable[[str], bool], limit: float
) -> tuple[Call, float]:
    """Re-ask QUESTION until the reply satisfies `wanted`; the reply and the seconds it took.

    Only the propagation is bounded: a question sent within `limit` seconds must get the wanted
    reply, however long a loaded machine takes to answer it.
    """
    started = time.monotonic()
    while True:
        sent = time.monotonic() - started
        reply = _ask(fake, replica, QUESTION)
        if wanted(_plain(reply)):
            return reply, time.monotonic() - started
        assert sent < limit, (
            f"{replica.name} still answers {_plain(reply)!r} after {sent:.1f} s; "
            f"health {replica.health()}"
        )
        time.sleep(0.3)


def _passages_of(engine: Engine, document_id: int) -> dict[int, tuple[bytes, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Passage.id, Passage.embedding, Passage.model_id).where(
                Passage.document_id == document_id
            )
        ).all()
    return {row.id: (bytes(row.embedding), row.model_id) for row in rows}


@pytest.mark.slow
@pytest.mark.postgres
def test_upload_through_one_replica_is_answered_by_the_other_without_re_embedding(
    tmp_path: Path,
    seeded_postgres_url: str,
    sqlite_template: Path,
    e5: E5SmallEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_proxy_env(monkeypatch)
    database = create_engine(seeded_postgres_url)
    # A starts with the saved FAISS file of the seed; B with an empty data dir, so it must build
    # its indexes from the vectors stored in PostgreSQL.
    shutil.copytree(
        sqlite_template, tmp_path / "a-data", ignore=shutil.ignore_patterns("acuerdo.db*")
    )
    (tmp_path / "b-data").mkdir()
    replicas: list[Replica] = []
    with FakeTelegram(token=LONG_TOKEN) as fake:
        try:
            a = _start_replica("a", tmp_path, tmp_path / "a-data", seeded_postgres_url, fake)
            replicas.append(a)
            b = _start_replica("b", tmp_path, tmp_path / "b-data", seeded_postgres_url, fake)
            replicas.append(b)
            _wait_until_ready(replicas)
            assert len(fake.wait_for("setWebhook", count=2, timeout=30)) == 2
            assert "Construyendo el índice vectorial desde la base de datos" in b.log()
            assert a.embedded() == {} and b.embedded() == {}  # the seed came from the database

            # Questions through either replica land in the one shared query log.
            assert "fentanilo" in _plain(_ask(fake, a, SEED_QUESTION))
            assert FROM_NEW_DOCUMENT not in _plain(_ask(fake, b, QUESTION))

            # An admin uploads through A and waits for A's final word.
            upload = fake.document_message(
                IRRIGATION.encode(),
                "riego.txt",
                "text/plain",
                user_id=ADMIN_ID,
                caption=TITLE,
                push=False,
            )
            a.post(fake, upload)
            done = fake.wait_for(
                "editMessageText",
                lambda c: (
                    c.ok
                    and str(c.get("chat_id")) == str(ADMIN_ID)
                    and not _plain(c).startswith("⏳")
                ),
                timeout=120,
            )[0]
            assert _plain(done).startswith("✅ Documento añadido."), _plain(done)
            match = re.search(r"Id: (\d+)", _plain(done))
            assert match is not None
            document_id = int(match.group(1))
            stored = _passages_of(database, document_id)
            assert len(stored) == 3
            assert {model for _, model in stored.values()} == {e5.model_id}
            assert a.embedded().get("E5SmallEmbedder") == 3  # A embedded the new passages once

            # B answers from it within a few seconds, from the vectors A stored.
            answer, took = _ask_until(
                fake, b, lambda text: FROM_NEW_DOCUMENT in text, PROPAGATION_LIMIT
            )
            assert TITLE in _plain(answer)
            assert b.embedded() == {}, "B re-embedded passages instead of using the stored ones"
            assert _passages_of(database, document_id) == stored
            health_b = b.health()
            assert health_b is not None
            assert health_b["passages"] == 13 + 3
            assert health_b["index_version"] == health_b["database_version"]

            # 👍 on B's answer is stored in the shared database.
            thumbs = next(btn for btn in _buttons(answer) if btn["text"] == "👍")
            _, query_id, passage_id, _ = thumbs["callback_data"].split(":")
            press = fake.callback_query(
                thumbs["callback_data"], user_id=USER, message=answer.result, push=False
            )
            b.post(fake, press)
            acknowledged = fake.wait_for(
                "answerCallbackQuery",
                lambda c: c.get("callback_query_id") == press["callback_query"]["id"],
                timeout=30,
            )[0]
            assert "Gracias" in (acknowledged.get("text") or "")
            with database.connect() as connection:
                votes = connection.execute(select(Feedback)).all()
                logged = connection.execute(
                    select(QueryLog.id, QueryLog.question, QueryLog.channel)
                ).all()
            assert [(v.query_id, v.passage_id, v.helpful) for v in votes] == [
                (int(query_id), int(passage_id), True)
            ]
            questions = {(q.question, q.channel) for q in logged}
            assert (SEED_QUESTION, "telegram") in questions  # asked through A
            assert (QUESTION, "telegram") in questions  # asked through B
            assert (int(query_id), QUESTION, "telegram") in {tuple(q) for q in logged}

            # The admin removes it through A; B stops quoting it.
            a.post(fake, fake.message(f"/borrar {document_id}", user_id=ADMIN_ID, push=False))
            confirm = fake.wait_for(
                "sendMessage",
                lambda c: c.ok and str(c.get("chat_id")) == str(ADMIN_ID) and "¿Borro" in _plain(c),
                timeout=30,
            )[0]
            yes = _buttons(confirm)[0]["callback_data"]
            assert yes.startswith(f"del:{document_id}:") and yes.endswith(":1")
            a.post(
                fake,
                fake.callback_query(yes, user_id=ADMIN_ID, message=confirm.result, push=False),
            )
            fake.wait_for(
                "editMessageText",
                lambda c: c.ok and _plain(c).startswith("🗑 Borrado"),
                timeout=30,
            )
            _, forgot = _ask_until(
                fake, b, lambda text: FROM_NEW_DOCUMENT not in text, PROPAGATION_LIMIT
            )
            assert _passages_of(database, document_id) == {}
            health_b = b.health()
            assert health_b is not None and health_b["passages"] == 13
            print(f"B quoted the upload {took:.1f} s after A finished, forgot it in {forgot:.1f} s")
        finally:
            for replica in replicas:
                _stop(replica)
                print(f"--- replica {replica.name} output:\n{replica.log()}")  # shown on failure
            database.dispose()
    for replica in replicas:
        output = replica.log()
        assert replica.process.returncode == 0, output
        assert LONG_TOKEN.split(":")[1] not in output
        for word in ("re-embebiendo", "Calculando", "Indexando"):
            assert word not in output, output
    assert b.embedded() == {}
    assert a.embedded() == {"E5SmallEmbedder": 3}  # only the shipped encoder embeds


# --- replicas racing each other (in-process, SQLite and PostgreSQL) -------------------------------


class RaceEmbedder(HashingEmbedder):
    """The hashing embedder of a named model, with a hook run before it embeds passages.

    `salt` makes the vectors of different model ids differ, so a vector stored under the wrong
    model id is caught by comparing it with what its model would compute.
    """

    def __init__(self, model_id: str, *, dim: int = 64, salt: str = "") -> None:
        super().__init__(dim=dim, model_id=model_id)
        self.salt = salt
        self.hook: Callable[[], object] | None = None
        self.delay = 0.0  # seconds per call, like a real model taking its time

    def _vector(self, text: str) -> np.ndarray:
        return super()._vector(f"{text} {self.salt}" if self.salt else text)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        hook, self.hook = self.hook, None  # one-shot: the first call of the job waits
        if hook is not None:
            hook()
        if self.delay:
            time.sleep(self.delay)
        return super().embed_passages(texts)


MODELS = {
    "test/model-one": ("one", 64),
    "test/model-two": ("two", 64),
    "test/model-three": ("three", 48),
}


def _model(model_id: str) -> RaceEmbedder:
    salt, dim = MODELS[model_id]
    return RaceEmbedder(model_id, dim=dim, salt=salt)


@pytest.fixture
def replicas(database_url: str, tmp_path: Path, settings_for) -> Iterator[Callable[..., Library]]:  # type: ignore[no-untyped-def]
    """Open a replica: its own engine, data dir and encoders, on the shared database."""
    opened: list[Library] = []

    def open_replica(model_id: str = "test/model-one", *, initialise: bool = True) -> Library:
        data_dir = tmp_path / f"replica{len(opened)}"
        embedder = _model(model_id)
        if initialise:
            library = Library.open(
                settings_for(DATABASE_URL=database_url, ACUERDO_DATA_DIR=data_dir),
                embedder=embedder,
            )
        else:  # a replica already running with this model (no re-embedding at start)
            library = Library(open_database(database_url), embedder, data_dir=data_dir)
        opened.append(library)
        return library

    yield open_replica
    for library in opened:
        library.close()
        library.sessions.kw["bind"].dispose()


def _together(*jobs: Callable[[], Any], timeout: float = 60.0) -> list[Any]:
    """Run jobs in threads released at the same instant; results (or exceptions) in order."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = job()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing job never finished (deadlock?)"
    return results


def _raise_unexpected(results: Sequence[Any]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _document(topic: str, paragraphs: int = 3) -> bytes:
    return "\n\n".join(
        f"Párrafo {i} del acuerdo sobre {topic}: la comisión revisará el punto {i} en detalle."
        for i in range(paragraphs)
    ).encode()


@dataclass(frozen=True)
class Snapshot:
    version: int
    model_id: str
    documents: dict[int, str]  # id → sha256
    passages: list[Any]


def _snapshot(library: Library) -> Snapshot:
    with library.sessions() as session:
        state = session.get(IndexState, 1)
        assert state is not None
        documents = {
            row.id: row.sha256 for row in session.execute(select(Document.id, Document.sha256))
        }
        passages = list(
            session.execute(
                select(
                    Passage.id,
                    Passage.document_id,
                    Passage.ordinal,
                    Passage.text,
                    Passage.sha256,
                    Passage.embedding,
                    Passage.model_id,
                    Passage.aux_embedding,
                    Passage.aux_model_id,
                )
            ).all()
        )
        return Snapshot(state.version, state.model_id, documents, passages)


def _assert_consistent(library: Library) -> Snapshot:
    """No orphans, no empty documents, one model for every vector, and each vector its model's."""
    snap = _snapshot(library)
    by_document: dict[int, list[int]] = {}
    for p in snap.passages:
        assert p.document_id in snap.documents, f"orphan passage {p.id}"
        by_document.setdefault(p.document_id, []).append(p.ordinal)
    assert set(by_document) == set(snap.documents), "a document without passages"
    for ordinals in by_document.values():
        assert sorted(ordinals) == list(range(len(ordinals)))
    assert {p.model_id for p in snap.passages} <= {snap.model_id}, "vectors of two models"
    model = _model(snap.model_id)
    expected = model.embed_passages([p.text for p in snap.passages])
    for p, vector in zip(snap.passages, expected, strict=True):
        assert p.sha256 == content_hash(p.text)
        assert bytes(p.embedding) == vector.tobytes(), f"passage {p.id}: not {snap.model_id}'s"
        # The removed second encoder's columns stay in the table, never written again.
        assert p.aux_model_id is None and p.aux_embedding is None
    return snap


def _assert_serves_database(library: Library) -> None:
    library.refresh()
    snap = _snapshot(library)
    corpus = library.corpus()
    assert (corpus.version, corpus.model_id) == (snap.version, snap.model_id)
    assert set(corpus.records) == {p.id for p in snap.passages}
    assert len(corpus.vectors) == len(snap.passages)


def test_the_same_document_added_by_two_replicas_at_once_is_stored_once(
    replicas: Callable[..., Library],
) -> None:
    a, b = replicas(), replicas()
    before = _snapshot(a)
    # Both have checked that the content is new before either stores it: the lost race must be
    # caught at the insert, not by the early "already there" check.
    checked = threading.Barrier(2, timeout=20)
    for replica in (a, b):
        embedder = replica.embedder
        assert isinstance(embedder, RaceEmbedder)
        embedder.hook = checked.wait
    data = _document("aduanas")
    results = _together(
        lambda: a.add_document("aduanas.txt", data, title="Aduanas"),
        lambda: b.add_document("aduanas-copia.txt", data, title="Aduanas (copia)"),
    )
    _raise_unexpected(results)
    assert sorted(r.created for r in results) == [False, True]
    assert results[0].document.id == results[1].document.id
    after = _assert_consistent(a)
    assert len(after.documents) == len(before.documents) + 1
    assert list(after.documents.values()).count(content_hash(data.decode())) == 1
    assert after.version == before.version + 1
    for replica in (a, b):
        _assert_serves_database(replica)


def test_different_documents_added_by_two_replicas_at_once_are_all_stored(
    replicas: Callable[..., Library],
) -> None:
    a, b = replicas(), replicas()
    before = _snapshot(a)
    topics = ["aduanas", "puertos", "armas", "migración"]
    results = _together(
        *(
            (lambda r=replica, t=topic: r.add_document(f"{t}.txt", _document(t, 4), title=t))
            for replica, topic in zip((a, b, a, b), topics, strict=True)
        )
    )
    _raise_unexpected(results)
    assert all(r.created for r in results)
    after = _assert_consistent(a)
    assert len(after.documents) == len(before.documents) + len(topics)
    assert len(after.passages) == len(before.passages) + 4 * len(topics)
    assert after.version == before.version + len(topics)
    assert sorted(r.document.title for r in results) == sorted(topics)
    for replica in (a, b):
        _assert_serves_database(replica)


def _release_after(event: threading.Event) -> Callable[[], None]:
    def wait() -> None:
        assert event.wait(30), "the other job never got there"

    return wait


@pytest.mark.parametrize("second_model", [False, True], ids=["same-model", "new-model"])
def test_an_upload_landing_while_another_replica_re_embeds_is_re_embedded_too(
    replicas: Callable[..., Library], second_model: bool
) -> None:
    # B re-embeds (with a new model, or the same); A's upload is stored while B is embedding, so
    # B's transaction finds passages it never read and must embed them with its own model.
    a = replicas("test/model-one")
    b = replicas("test/model-two" if second_model else "test/model-one", initialise=False)
    added = threading.Event()
    embedder = b.embedder
    assert isinstance(embedder, RaceEmbedder)
    embedder.hook = _release_after(added)

    def add() -> Any:
        try:
            return a.add_document("puertos.txt", _document("puertos"), title="Puertos")
        finally:
            added.set()

    results = _together(b.rebuild, add)
    _raise_unexpected(results)
    rebuilt, result = results
    assert result.created
    after = _assert_consistent(a)
    assert after.model_id == b.embedder.model_id
    assert rebuilt == len(after.passages)
    assert result.document.id in after.documents
    _assert_serves_database(b)


@pytest.mark.parametrize("second_model", [False, True], ids=["same-model", "new-model"])
def test_an_upload_embedded_before_a_re_embedding_is_refused_or_kept_consistent(
    replicas: Callable[..., Library], second_model: bool
) -> None:
    # A embeds its upload with model one; B's re-embedding commits before A stores it.
    a = replicas("test/model-one")
    b = replicas("test/model-two" if second_model else "test/model-one", initialise=False)
    rebuilt = threading.Event()
    embedder = a.embedder
    assert isinstance(embedder, RaceEmbedder)
    embedder.hook = _release_after(rebuilt)

    def rebuild() -> int:
        try:
            return b.rebuild()
        finally:
            rebuilt.set()

    before = _snapshot(a)
    data = _document("puertos")
    results = _together(lambda: a.add_document("puertos.txt", data, title="Puertos"), rebuild)
    added = results[0]
    if second_model:
        # Model-one vectors must not join a model-two index: the upload is refused, not stored.
        assert isinstance(added, ModelError), added
        assert "ACUERDO_EMBEDDING_MODEL" in str(added) and "test/model-two" in str(added)
    else:
        _raise_unexpected(results)
        assert added.created
    after = _assert_consistent(a)
    assert after.model_id == b.embedder.model_id
    stored = content_hash(data.decode()) in after.documents.values()
    assert stored is (not second_model)
    assert len(after.documents) == len(before.documents) + (0 if second_model else 1)
    _assert_serves_database(b)


def test_re_embeddings_and_uploads_racing_freely_never_mix_models(
    replicas: Callable[..., Library],
) -> None:
    # Two replicas with different models take turns re-embedding (0.1 s per batch) while the
    # other uploads, the upload starting earlier or later so that the interleavings differ.
    one = replicas("test/model-one")
    two = replicas("test/model-two", initialise=False)
    outcomes: list[str] = []
    for round_, offset in enumerate([0.0, 0.25, 0.05, 0.15, 0.0, 0.1, 0.3, 0.02]):
        rebuilder, uploader = (two, one) if round_ % 2 == 0 else (one, two)
        for replica, delay in ((rebuilder, 0.1), (uploader, 0.0)):
            assert isinstance(replica.embedder, RaceEmbedder)
            replica.embedder.delay = delay
        data = _document(f"ronda {round_}", 2 + round_ % 3)

        def upload(
            library: Library = uploader, data: bytes = data, wait: float = offset, n: int = round_
        ) -> Any:
            time.sleep(wait)
            return library.add_document(f"ronda{n}.txt", data, title=f"Ronda {n}")

        rebuilt, added = _together(rebuilder.rebuild, upload)
        if isinstance(rebuilt, BaseException):
            raise rebuilt
        if isinstance(added, ModelError):
            outcomes.append("refused")
        elif isinstance(added, BaseException):
            raise added
        else:
            outcomes.append("stored")
        snap = _assert_consistent(rebuilder)
        assert snap.model_id == rebuilder.embedder.model_id
        stored = content_hash(data.decode()) in snap.documents.values()
        assert stored is (outcomes[-1] == "stored")
        _assert_serves_database(rebuilder)
    print("uploads racing a re-embedding:", outcomes)


def test_a_document_removed_by_one_replica_disappears_from_the_other(
    replicas: Callable[..., Library],
) -> None:
    a, b = replicas(), replicas()
    added = a.add_document("armas.txt", _document("armas"), title="Armas")
    assert b.refresh()  # the new version is noticed, and nothing is embedded for it
    assert {h.document_id for h in b.ask("comisión armas", k=5).hits} & {added.document.id}
    embedder = b.embedder
    assert isinstance(embedder, RaceEmbedder)
    embedded = embedder.embedded
    b.remove_document(added.document.id)
    assert a.refresh()
    assert added.document.id not in {r.document_id for r in a.corpus().records.values()}
    assert embedder.embedded == embedded
    _assert_serves_database(a)


def test_replicas_starting_together_on_an_empty_database_seed_it_once(
    database_url: str, tmp_path: Path, settings_for
) -> None:  # type: ignore[no-untyped-def]
    def start(name: str) -> Library:
        settings = settings_for(DATABASE_URL=database_url, ACUERDO_DATA_DIR=tmp_path / name)
        return Library.open(settings, embedder=_model("test/model-one"))

    results = _together(lambda: start("a"), lambda: start("b"))
    _raise_unexpected(results)
    try:
        snap = _assert_consistent(results[0])
        assert len(snap.documents) == 1 and len(snap.passages) == 13
        for library in results:
            assert [d.passages for d in library.documents()] == [13]
            _assert_serves_database(library)
    finally:
        for library in results:
            library.close()
            library.sessions.kw["bind"].dispose()


# --- a model change rolling out, and refreshes racing it -----------------------------------------


@pytest.mark.parametrize("dim", [64, 48], ids=["same-dim", "other-dim"])
def test_a_replica_left_on_the_old_model_never_searches_the_new_models_vectors(
    replicas: Callable[..., Library], dim: int
) -> None:
    # A model change rolls out replica by replica: the first restarted one re-embeds everything
    # with the new model while the others still encode questions with the old one.
    old = replicas("test/model-one")
    new = replicas("test/model-two" if dim == 64 else "test/model-three", initialise=False)
    new.rebuild()
    assert old.refresh() is False
    # Model-one question vectors against model-two passage vectors would rank at random: the old
    # replica keeps its own index, answers from it, and tells the load balancer it is stale.
    assert old.corpus().model_id == old.embedder.model_id
    assert len(old.corpus()) == 13 and old.ask("fentanilo").hits
    health = old.health()
    assert health["ok"] is False and health["model_mismatch"] == new.embedder.model_id
    assert new.health()["ok"] is True


@pytest.mark.postgres
def test_a_refresh_racing_a_model_change_never_serves_an_empty_index(
    postgres_url: str, tmp_path: Path, settings_for
) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL=postgres_url, ACUERDO_DATA_DIR=tmp_path / "a")
    reader = Library.open(settings, embedder=_model("test/model-one"))
    uploader, writer = (
        Library(open_database(postgres_url), _model(model), data_dir=data)
        for model, data in (("test/model-one", tmp_path / "b"), ("test/model-two", tmp_path / "c"))
    )
    # Another replica adds a document: the reader's next refresh applies the change.
    uploader.add_document("puertos.txt", _document("puertos"), title="Puertos")
    engine = reader.sessions.kw["bind"]
    fired: list[Any] = []

    def commit_a_re_embedding_first(*args: Any) -> None:
        # Between the reader's look at the index version and its look at the passages.
        statement = args[2]
        if not fired and re.match(r"SELECT passages\.id\s+FROM passages\s+WHERE", statement):
            fired.extend(_together(writer.rebuild, timeout=30))

    event.listen(engine, "before_cursor_execute", commit_a_re_embedding_first)
    try:
        reader.refresh()
    finally:
        event.remove(engine, "before_cursor_execute", commit_a_re_embedding_first)
        for library in (reader, uploader, writer):
            library.sessions.kw["bind"].dispose()
    if not fired:
        pytest.skip("refresh no longer reads the passage ids on their own")
    assert fired == [16], fired  # the re-embedding committed while the reader was reading
    # Every version of the database had 16 passages; the index must show one of them.
    assert len(reader.corpus()) == 16
    assert reader.corpus().model_id == reader.embedder.model_id
