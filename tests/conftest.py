"""Shared fixtures: databases (SQLite and PostgreSQL), embedders (fake and real), settings."""

from __future__ import annotations

import os

# One OpenMP/BLAS thread per test process, set before numpy, torch or FAISS load. The suite runs
# one worker per core (pyproject's `-n auto`), and each library's pool of one thread per core
# spin-waits for work: two workers' pools took each other's cores and the suite burnt a third
# more CPU (228 s against 171 s here) for nothing. Subprocesses the tests start inherit it. The
# product sets its own thread counts where it matters (e5 and FAISS on one thread per caller).
os.environ.setdefault("OMP_NUM_THREADS", "1")
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import create_engine, text

from acuerdo.index import Library, Settings
from acuerdo.index.embedding import E5SmallEmbedder
from tests import pgschemas
from tests.botkit import POSTGRES_TEMPLATE_MARKER, copy_template, make_settings, running_bot
from tests.cli_support import InProcessCli
from tests.fake_telegram import FakeTelegram, no_proxy_env
from tests.hashing import HashingEmbedder
from tests.pgschemas import POSTGRES_ADMIN_URL
from tests.tcpproxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

# Which database the end-to-end bot tests (the `bot` fixture and every test that copies
# `seeded_template`) run on: "sqlite" (default, the data dir's file) or "postgresql" (a fresh
# schema per test, cloned from a seeded template schema). `.ci/run` runs them on both.
E2E_DATABASE = os.environ.get("ACUERDO_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if E2E_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(
        f"ACUERDO_TEST_DATABASE must be sqlite or postgresql, not {E2E_DATABASE!r}"
    )

# Model hubs are unreachable here; sentence-transformers must never try them in tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than cores. A third of the suite's time is spent waiting (on
    `acuerdo` processes, the fake Bot API, "nothing else happens" pauses); the extra worker
    fills it (2 cores: 116 s with three workers against 135 s with two)."""
    return (os.cpu_count() or 1) + 1


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


_POSTGRES = postgres_available()


def _require_postgres() -> None:
    if not _POSTGRES:
        if os.environ.get("CI") or E2E_DATABASE == "postgresql":
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required (CI or ACUERDO_TEST_DATABASE)")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards (tests stay isolated)."""
    _require_postgres()
    schema = pgschemas.create_schema()
    try:
        yield pgschemas.schema_url(schema)
    finally:
        pgschemas.drop_schema(schema)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """A cuttable TCP forwarder to the local PostgreSQL (see `tests/tcpproxy.py`)."""
    forwarder = TcpProxy(5432)
    forwarder.restore()
    yield forwarder
    forwarder.close()


@pytest.fixture(autouse=True)
def _drop_cloned_schemas() -> Iterator[None]:
    """Schemas cloned for a test (see `copy_template`) go when the test's fixtures are done."""
    yield
    pgschemas.drop_clones()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'acuerdo.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build `Settings` pointing at a temporary data dir (and any overrides)."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "ACUERDO_DATA_DIR": tmp_path / "data",
            "ACUERDO_SEEDS_DIR": SEEDS,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture(scope="session")
def e5() -> E5SmallEmbedder:
    """The real bundled multilingual-e5-small (loaded once per test session)."""
    return E5SmallEmbedder()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, e5: E5SmallEmbedder) -> InProcessCli:
    """`acuerdo …` in this process, in `tmp_path`, with the session's e5 (tests/cli_support.py)."""
    return InProcessCli(tmp_path, monkeypatch, e5)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def library(database_url: str, settings_for, fake_embedder: HashingEmbedder) -> Iterator[Library]:  # type: ignore[no-untyped-def]
    """A library on the parametrised database with the fake encoder and the seed document."""
    library = Library.open(settings_for(DATABASE_URL=database_url), embedder=fake_embedder)
    yield library
    library.close()


@pytest.fixture(scope="session")
def seeded_e5_library(
    tmp_path_factory: pytest.TempPathFactory, e5: E5SmallEmbedder, sqlite_template: Path
) -> Iterator[Library]:
    """The product as shipped: real e5, SQLite, the seed communiqué (shared, read-only use)."""
    data = tmp_path_factory.mktemp("e5data") / "data"
    shutil.copytree(sqlite_template, data)  # the seed as `sqlite_template` indexed it
    settings = Settings(_env_file=None, ACUERDO_DATA_DIR=data, ACUERDO_SEEDS_DIR=SEEDS)  # type: ignore[call-arg]
    library = Library.open(settings, embedder=e5)
    yield library
    library.close()


@pytest.fixture(scope="session")
def sqlite_template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path:
    """A SQLite data dir with the seed indexed as shipped, by the real e5 (never written).

    Built once per run and shared by the parallel workers (each would otherwise embed the seed
    again): the first worker to need it builds it under a lock in the run's temporary folder."""
    run_root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_root = run_root.parent  # the run's folder, above each worker's own
    data = run_root / "e5-template" / "data"
    with FileLock(str(run_root / "e5-template.lock")):
        if not (data.parent / "ready").exists():
            settings = Settings(_env_file=None, ACUERDO_DATA_DIR=data, ACUERDO_SEEDS_DIR=SEEDS)  # type: ignore[call-arg]
            library = Library.open(settings, embedder=request.getfixturevalue("e5"))
            library.close()  # index files written
            library.sessions.kw["bind"].dispose()  # checkpointed and closed: safe to copy
            (data.parent / "ready").touch()
    return data


@pytest.fixture
def seeded(tmp_path: Path, sqlite_template: Path) -> Path:
    """`tmp_path` whose `data` dir already holds the indexed seed (no embedding in each test)."""
    shutil.copytree(sqlite_template, tmp_path / "data")
    return tmp_path


@pytest.fixture(scope="session")
def postgres_template(sqlite_template: Path) -> Iterator[str]:
    """A schema holding exactly the rows of `sqlite_template` (same ids, vectors and version),
    so that its `vectors.faiss` is valid for every clone of it."""
    _require_postgres()
    schema = pgschemas.create_schema("tpl_")
    try:
        pgschemas.copy_sqlite_into(f"sqlite:///{sqlite_template / 'acuerdo.db'}", schema)
        yield schema
    finally:
        pgschemas.drop_schema(schema)


@pytest.fixture
def seeded_postgres_url(postgres_url: str, postgres_template: str) -> str:
    """`postgres_url` already holding the seeded template's rows."""
    pgschemas.clone_schema(postgres_template, pgschemas.schema_of(postgres_url))
    return postgres_url


@pytest.fixture(scope="session")
def seeded_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Path:
    """A data dir with the seed indexed by the real e5, copied by each bot test with
    `copy_template`. With ACUERDO_TEST_DATABASE=postgresql it names a template schema instead of
    carrying a SQLite file, and each copy gets its own clone of that schema."""
    if E2E_DATABASE == "sqlite":
        return sqlite_template
    schema = request.getfixturevalue("postgres_template")
    data = tmp_path_factory.mktemp("pgtemplate") / "data"
    shutil.copytree(sqlite_template, data, ignore=shutil.ignore_patterns("acuerdo.db*"))
    (data / POSTGRES_TEMPLATE_MARKER).write_text(schema, encoding="utf-8")
    return data


@pytest.fixture
def fake_telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    """The fake Bot API on 127.0.0.1, with proxy variables stripped so PTB reaches it directly."""
    no_proxy_env(monkeypatch)
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="session")
def hashing_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite data dir with the seed indexed by the hashing embedder (instant, never written)."""
    data = tmp_path_factory.mktemp("hashing") / "data"
    settings = Settings(_env_file=None, ACUERDO_DATA_DIR=data, ACUERDO_SEEDS_DIR=SEEDS)  # type: ignore[call-arg]
    library = Library.open(settings, embedder=HashingEmbedder())
    library.close()
    return data


@pytest.fixture
async def light_bot(tmp_path: Path, hashing_template: Path, fake_telegram: FakeTelegram):  # type: ignore[no-untyped-def]
    """The real application on the hashing embedder: for handlers whose replies do not depend on
    ranking (/ayuda, /fuentes…), without loading a real model."""
    copy_template(hashing_template, tmp_path / "data")
    settings = make_settings(tmp_path / "data", SEEDS, fake_telegram)
    async with running_bot(settings, HashingEmbedder(), fake_telegram) as running:
        yield running


@pytest.fixture
async def bot(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
):  # type: ignore[no-untyped-def]
    """The real application as shipped (e5 alone) polling the fake server, on a copy of the
    seeded database."""
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(tmp_path / "data", SEEDS, fake_telegram)
    notices: list[str] = []
    async with running_bot(settings, e5, fake_telegram, notice=notices.append) as running:
        # The copy is used as is: nothing re-embedded, seeded again or rebuilt from the database.
        assert notices == [], notices
        yield running
