"""The synthetic 100,000-passage corpus of `benchmarks/scale.py`, built once and cached.

Real e5 embeddings of 100k passages would take hours on this machine, so the corpus is
synthesised with the structure of real embeddings: a few hundred varied Spanish sentences (14
topics) are embedded with the bundled e5; each passage is a random mixture of one to three of
them (mostly of one topic), perturbed along the directions the real sentences span plus a little
isotropic noise, and re-normalised. Its text is those sentences plus a fresh templated one, so
BM25 sees matching words. Vectors and the SQLite database (written with SQLAlchemy core through
`index.models`) are cached in benchmarks/.cache/ for reruns.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from acuerdo.index.embedding import Embedder
from benchmarks.benchlib import REPO

CACHE_DIR = REPO / "benchmarks" / ".cache"
GENERATOR_VERSION = "scale-v2"  # v2: e5 only (the second encoder is not shipped)
Matrix = npt.NDArray[np.float32]

# -- synthetic Spanish sentences ----------------------------------------------------------------

# topic → subjects; verbs; objects; endings ("|"-separated); a sentence takes one of each.
_TOPIC_TEXT = {
    "salud": (
        (
            "El hospital regional|La Secretaría de Salud|El centro de salud del barrio|"
            "La campaña de vacunación|El colegio de médicos|La clínica universitaria"
        ),
        "amplió|redujo|reportó|reforzó|suspendió|evaluó",
        (
            "la atención de urgencias|los casos de dengue|la vacunación contra la influenza|"
            "las consultas pediátricas|el abasto de medicamentos|"
            "las listas de espera para cirugías"
        ),
        (
            "en las zonas rurales|durante el invierno|a partir de marzo|en todo el estado|"
            "con apoyo de voluntarios|tras el aumento de contagios"
        ),
    ),
    "educación": (
        (
            "La Secretaría de Educación|El sindicato de maestros|La universidad pública|"
            "El consejo escolar|Un grupo de padres de familia|La escuela normal"
        ),
        "anunció|rechazó|aprobó|presentó|criticó|financió",
        (
            "el nuevo plan de estudios|las becas para estudiantes|el calendario escolar|"
            "la reforma educativa|los desayunos escolares|la evaluación docente"
        ),
        (
            "para el próximo ciclo|en las escuelas indígenas|después de meses de negociación|"
            "en una asamblea extraordinaria|con recursos federales|"
            "sin consultar a los docentes"
        ),
    ),
    "economía": (
        (
            "El Banco Central|La Secretaría de Hacienda|La cámara de comercio|"
            "El instituto de estadística|Los analistas financieros|La bolsa de valores"
        ),
        "elevó|recortó|estimó|advirtió sobre|revisó|publicó",
        (
            "la tasa de interés|el pronóstico de crecimiento|la inflación de los alimentos|"
            "el tipo de cambio|la deuda pública|el salario mínimo"
        ),
        (
            "en su informe trimestral|por la caída del consumo|"
            "ante la volatilidad de los mercados|para el cierre del año|"
            "frente a la desaceleración global|tras la reunión de su junta"
        ),
    ),
    "medio ambiente": (
        (
            "La Secretaría de Medio Ambiente|Una organización ecologista|La comisión del agua|"
            "Los guardaparques|Un equipo de biólogos|La procuraduría ambiental"
        ),
        "denunció|protegió|restauró|monitoreó|clausuró|reforestó",
        (
            "la contaminación del río|los manglares de la costa|la tala ilegal en la sierra|"
            "la calidad del aire|las especies en peligro de extinción|"
            "los incendios forestales"
        ),
        (
            "en la reserva de la biosfera|durante la temporada seca|con ayuda de drones|"
            "tras varias denuncias vecinales|en coordinación con los municipios|"
            "cerca de la zona industrial"
        ),
    ),
    "transporte": (
        (
            "El metro de la ciudad|La secretaría de movilidad|Los transportistas|"
            "La aerolínea nacional|El nuevo tren interurbano|La autoridad portuaria"
        ),
        "modernizó|aumentó|cerró|inauguró|retrasó|renovó",
        (
            "la tarifa del transporte público|la línea de autobuses rápidos|"
            "las rutas hacia el aeropuerto|las ciclovías del centro|el servicio nocturno|"
            "los vagones más antiguos"
        ),
        (
            "por obras de mantenimiento|en horas pico|desde el lunes|tras un accidente|"
            "para reducir el tráfico|con una inversión millonaria"
        ),
    ),
    "deportes": (
        (
            "La selección nacional|El club de la capital|La federación de atletismo|"
            "El entrenador del equipo|Una joven tenista|El comité olímpico"
        ),
        "ganó|perdió|convocó a|preparó|celebró|anunció",
        (
            "la final del campeonato|el torneo internacional|la medalla de oro|"
            "los partidos de clasificación|el maratón de la ciudad|la nueva temporada"
        ),
        (
            "ante miles de aficionados|en tiempo extra|después de una lesión|"
            "en el estadio olímpico|con un gol en el último minuto|frente a su eterno rival"
        ),
    ),
    "cultura": (
        (
            "El museo de arte moderno|La orquesta sinfónica|Un escritor galardonado|"
            "El festival de cine|La biblioteca nacional|Una compañía de teatro"
        ),
        "presentó|estrenó|restauró|organizó|recibió|dedicó",
        (
            "una exposición de pintura mexicana|un concierto gratuito|"
            "una novela sobre la migración|un homenaje a los muralistas|"
            "una colección de manuscritos antiguos|una obra de teatro para niños"
        ),
        (
            "en el centro histórico|durante el fin de semana|con entrada libre|"
            "en su edición número veinte|ante un público entusiasta|"
            "como parte de las fiestas patrias"
        ),
    ),
    "tecnología": (
        (
            "Una empresa emergente|El instituto de investigación|La agencia espacial|"
            "Un grupo de ingenieros|La compañía telefónica|El gobierno digital"
        ),
        "desarrolló|lanzó|probó|patentó|instaló|actualizó",
        (
            "una aplicación para trámites|un satélite de observación|la red de fibra óptica|"
            "un sistema de inteligencia artificial|la conexión a internet en escuelas|"
            "un robot para la agricultura"
        ),
        (
            "con talento nacional|en fase experimental|para millones de usuarios|"
            "en comunidades apartadas|tras dos años de pruebas|con financiamiento privado"
        ),
    ),
    "agricultura": (
        (
            "Los productores de maíz|La Secretaría de Agricultura|Una cooperativa de café|"
            "Los ganaderos del norte|El banco de semillas|Los pescadores del golfo"
        ),
        "exportaron|perdieron|cosecharon|solicitaron|vendieron|sembraron",
        (
            "la cosecha de temporada|los precios de garantía|apoyos contra la sequía|"
            "fertilizantes a bajo costo|semillas nativas|el riego tecnificado"
        ),
        (
            "por la falta de lluvias|en los mercados internacionales|"
            "con créditos del gobierno|a pesar de las heladas|en la región del bajío|"
            "por segundo año consecutivo"
        ),
    ),
    "clima": (
        (
            "El servicio meteorológico|Protección civil|Un frente frío|La tormenta tropical|"
            "La ola de calor|El huracán de categoría tres"
        ),
        "pronosticó|provocó|afectó|alertó sobre|dejó|intensificó",
        (
            "lluvias torrenciales|temperaturas bajo cero|inundaciones en zonas bajas|"
            "vientos de más de cien kilómetros por hora|cortes de energía eléctrica|"
            "la evacuación de familias"
        ),
        (
            "en la península|durante la madrugada|en los próximos días|"
            "en varios estados del país|a lo largo de la costa|en las zonas montañosas"
        ),
    ),
    "vivienda": (
        (
            "El instituto de vivienda|Los inquilinos del centro|Una constructora privada|"
            "El ayuntamiento|Los bancos hipotecarios|Un colectivo vecinal"
        ),
        "construyó|regularizó|protestó contra|ofreció|encareció|demolió",
        (
            "viviendas de interés social|los créditos hipotecarios|el aumento de las rentas|"
            "los predios irregulares|los edificios dañados por el sismo|"
            "las escrituras de las colonias populares"
        ),
        (
            "en la periferia de la ciudad|para familias jóvenes|con subsidios federales|"
            "tras años de espera|en zonas de alto riesgo|a tasas preferenciales"
        ),
    ),
    "energía": (
        (
            "La comisión de electricidad|La empresa petrolera|Un parque solar|"
            "La refinería del puerto|El regulador de energía|Una planta eólica"
        ),
        "generó|incrementó|importó|interrumpió|garantizó|licitó",
        (
            "la producción de gasolina|el suministro de gas natural|"
            "energía limpia para hogares|el precio de la luz|contratos de exploración|"
            "la capacidad de almacenamiento"
        ),
        (
            "en el sureste del país|durante la emergencia|con inversión extranjera|"
            "para la industria nacional|según el plan de transición|por fallas técnicas"
        ),
    ),
    "turismo": (
        (
            "La secretaría de turismo|Los hoteleros de la costa|Un pueblo mágico|"
            "Las agencias de viaje|El parque arqueológico|Los cruceros internacionales"
        ),
        "recibió|promovió|registró|reabrió|ofreció|atrajo",
        (
            "a visitantes extranjeros|paquetes de temporada baja|una ocupación récord|"
            "las zonas de playa|recorridos nocturnos|el turismo de aventura"
        ),
        (
            "durante las vacaciones de verano|en semana santa|tras la pandemia|"
            "con nuevas rutas aéreas|gracias a la promoción digital|en la riviera"
        ),
    ),
    "justicia": (
        (
            "La fiscalía general|Un juez federal|La suprema corte|"
            "La comisión de derechos humanos|El tribunal electoral|La defensoría pública"
        ),
        "ordenó|investigó|suspendió|resolvió|admitió|anuló",
        (
            "la detención de un exfuncionario|el amparo de los vecinos|"
            "la queja por abuso policial|el caso de corrupción|la elección municipal|"
            "la liberación de los acusados"
        ),
        (
            "por falta de pruebas|en una audiencia pública|después de una larga investigación|"
            "a petición de las víctimas|por unanimidad|en un fallo histórico"
        ),
    ),
}
TOPICS: dict[str, tuple[tuple[str, ...], ...]] = {
    topic: tuple(tuple(part.split("|")) for part in parts) for topic, parts in _TOPIC_TEXT.items()
}

OUT_OF_SCOPE = (
    "¿Cuál es la capital de Australia?",
    "Dame una receta de tacos",
    "¿Quién escribió Cien años de soledad?",
    "¿Cómo se dice gracias en japonés?",
    "¿Cuántos planetas tiene el sistema solar?",
    "¿Qué hora es en Tokio?",
)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def topic_sentence(rng: random.Random, topic: str) -> str:
    subjects, verbs, objects, endings = TOPICS[topic]
    return (
        f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(endings)}."
    )


def base_sentences(per_topic: int, seed: int) -> tuple[list[str], list[int]]:
    """`per_topic` distinct sentences per topic, and each sentence's topic number."""
    rng = random.Random(seed)
    sentences: list[str] = []
    topics: list[int] = []
    for number, topic in enumerate(TOPICS):
        seen: set[str] = set()
        while len(seen) < per_topic:
            sentence = topic_sentence(rng, topic)
            if sentence not in seen:
                seen.add(sentence)
                sentences.append(sentence)
                topics.append(number)
    return sentences, topics


def _topic_question(rng: random.Random, parts: tuple[tuple[str, ...], ...]) -> str:
    subjects, verbs, objects, endings = parts
    kind = rng.randrange(6)
    if kind == 0:
        return f"¿Qué se sabe de {rng.choice(objects)}?"
    if kind == 1:
        return f"¿Qué hizo {_lower_first(rng.choice(subjects))} con {rng.choice(objects)}?"
    if kind == 2:
        return f"¿Quién {rng.choice(verbs)} {rng.choice(objects)}?"
    if kind == 3:
        return f"¿Hay novedades sobre {rng.choice(objects)} {rng.choice(endings)}?"
    if kind == 4:
        return rng.choice(objects)
    return (
        f"¿Por qué {_lower_first(rng.choice(subjects))} {rng.choice(verbs)} {rng.choice(objects)}?"
    )


def questions(per_topic: int, seed: int) -> list[str]:
    """Varied questions over every topic (worded unlike the passages) plus out-of-scope ones."""
    rng = random.Random(seed + 1)
    found: list[str] = []
    for parts in TOPICS.values():
        seen: set[str] = set()
        while len(seen) < per_topic:
            seen.add(_topic_question(rng, parts))
        found += sorted(seen)
    rng.shuffle(found)
    return found + list(OUT_OF_SCOPE)


# -- synthetic vectors ----------------------------------------------------------------------


@dataclass
class Mixtures:
    """Which base sentences (up to 3, -1 = none) and weights make each synthetic passage."""

    index: npt.NDArray[np.int32]
    weight: npt.NDArray[np.float32]
    noise: npt.NDArray[np.float32]  # noise size relative to the mixture's norm
    seed: int


def draw_mixtures(count: int, topics: Sequence[int], seed: int) -> Mixtures:
    rng = np.random.default_rng(seed)
    topic_of = np.asarray(topics)
    by_topic = [np.flatnonzero(topic_of == t) for t in range(int(topic_of.max()) + 1)]
    bases = len(topic_of)
    index = np.full((count, 3), -1, dtype=np.int32)
    index[:, 0] = rng.integers(bases, size=count)
    parts = rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15], size=count)
    same_topic = rng.random((count, 2)) < 0.8
    for column in (1, 2):
        needed = np.flatnonzero(parts > column)
        for row in needed:
            if same_topic[row, column - 1]:
                pool = by_topic[topic_of[index[row, 0]]]
                index[row, column] = pool[rng.integers(len(pool))]
            else:
                index[row, column] = rng.integers(bases)
    weight = rng.dirichlet([2.0, 2.0, 2.0], size=count).astype(np.float32)
    weight[index < 0] = 0.0
    weight /= weight.sum(axis=1, keepdims=True)
    noise = rng.uniform(0.25, 0.55, size=count).astype(np.float32)
    return Mixtures(index, weight, noise, seed)


def synthesize(base: Matrix, mixtures: Mixtures, *, chunk: int = 10_000) -> Matrix:
    """Unit vectors: the weighted base mixture + noise in the span of the (centred) bases."""
    rng = np.random.default_rng(mixtures.seed + base.shape[1])
    centred = base - base.mean(axis=0, keepdims=True)
    out = np.empty((len(mixtures.index), base.shape[1]), dtype=np.float32)
    for start in range(0, len(out), chunk):
        rows = slice(start, start + chunk)
        index = np.maximum(mixtures.index[rows], 0)
        mix = np.einsum("nk,nkd->nd", mixtures.weight[rows], base[index])
        # Noise: mostly along directions real sentences vary in, a little isotropic.
        shaped = rng.standard_normal((len(mix), len(base))).astype(np.float32) @ centred
        shaped /= np.linalg.norm(shaped, axis=1, keepdims=True)
        flat = rng.standard_normal(mix.shape).astype(np.float32)
        flat /= np.linalg.norm(flat, axis=1, keepdims=True)
        direction = 0.8 * shaped + 0.2 * flat
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        size = mixtures.noise[rows, None] * np.linalg.norm(mix, axis=1, keepdims=True)
        vectors = mix + size * direction
        out[rows] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return out


def passage_texts(mixtures: Mixtures, sentences: Sequence[str], topics: Sequence[int]) -> list[str]:
    """Each passage: its base sentences plus a fresh sentence of its main topic."""
    rng = random.Random(mixtures.seed)
    names = list(TOPICS)
    texts = []
    for row in mixtures.index.tolist():
        parts = [sentences[i] for i in row if i >= 0]
        parts.append(topic_sentence(rng, names[topics[row[0]]]))
        texts.append(" ".join(parts))
    return texts


@dataclass
class Data:
    """Everything generated (and cached) for one corpus size."""

    key: str
    folder: Path
    sentences: list[str]
    topics: list[int]
    questions: list[str]
    e5: Matrix  # corpus vectors, row i = passage id i + 1 (memory-mapped from the cache)
    queries: Matrix  # real question embeddings (query side), then held-out synthetic passages
    real_queries: int
    mixtures: Mixtures
    realism: list[tuple[str, str]] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.folder / "acuerdo.db"


def prepare(
    embedder: Embedder,
    *,
    passages: int,
    per_topic: int,
    questions_per_topic: int,
    recall_questions: int,
    held_out: int,
    passages_per_document: int,
    seed: int,
) -> Data:
    """The cached corpus for these parameters, generated (vectors, SQLite) when absent."""
    blob = json.dumps(
        [GENERATOR_VERSION, passages, seed, per_topic, passages_per_document, embedder.model_id]
    )
    key = hashlib.sha256(blob.encode()).hexdigest()[:12]
    folder = CACHE_DIR / f"scale-{key}"
    sentences, topics = base_sentences(per_topic, seed)
    asked = questions(questions_per_topic, seed)
    mixtures = draw_mixtures(passages, topics, seed)
    if not (folder / "done").is_file():
        _generate(
            folder,
            embedder,
            sentences,
            topics,
            asked,
            mixtures,
            recall_questions,
            held_out,
            passages_per_document,
            seed,
            key,
        )
    stored = np.load(folder / "queries.npz")
    return Data(
        key,
        folder,
        sentences,
        topics,
        asked,
        np.load(folder / "e5.npy", mmap_mode="r"),
        stored["queries"],
        int(stored["real_queries"]),
        mixtures,
        [tuple(row) for row in json.loads((folder / "realism.json").read_text())],
    )


def _generate(
    folder: Path,
    embedder: Embedder,
    sentences: list[str],
    topics: list[int],
    asked: list[str],
    mixtures: Mixtures,
    recall_questions: int,
    held_out: int,
    passages_per_document: int,
    seed: int,
    key: str,
) -> None:
    print(f"[scale] embedding {len(sentences)} sentences and questions…", file=sys.stderr)
    base = embedder.embed_passages(sentences)
    real = embedder.embed_queries(asked[:recall_questions])
    print(f"[scale] synthesising {len(mixtures.index)} vectors…", file=sys.stderr)
    corpus = synthesize(base, mixtures)
    queries = np.vstack([real, synthesize(base, draw_mixtures(held_out, topics, seed + 1))]).astype(
        np.float32
    )
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "e5.npy", corpus)
    np.savez(folder / "queries.npz", queries=queries, real_queries=np.int64(len(real)))
    (folder / "realism.json").write_text(json.dumps(realism_check(base, corpus, real, mixtures)))
    texts = passage_texts(mixtures, sentences, topics)
    build_database(
        folder / "acuerdo.db", key, texts, corpus, embedder.model_id, passages_per_document
    )
    (folder / "done").write_text("ok")


def realism_check(
    base: Matrix, corpus: Matrix, questions_e5: Matrix, mixtures: Mixtures
) -> list[tuple[str, str]]:
    """Cosine statistics of the real sentences next to the synthetic passages'."""
    sims = base @ base.T
    real = sims[~np.eye(len(base), dtype=bool)]
    probe = slice(0, 2000)
    own = np.einsum("nd,nd->n", corpus[probe], base[mixtures.index[probe, 0]])
    nearest = corpus[probe] @ corpus[:20_000].T
    nearest.sort(axis=1)
    best = (questions_e5 @ base.T).max(axis=1)

    def spread(values: npt.NDArray[np.float32]) -> str:
        return " / ".join(f"{np.percentile(values, q):.2f}" for q in (5, 50, 95))

    return [
        ("cosine between two different real sentences (p5 / p50 / p95)", spread(real)),
        ("synthetic passage vs its main sentence (p5 / p50 / p95)", spread(own)),
        (
            "median cosine to the nearest other passage (2k-passage sample)",
            f"{float(np.median(nearest[:, -2])):.3f}",  # the top one is the vector itself
        ),
        ("real question vs its best real sentence (p5 / p50 / p95)", spread(best)),
    ]


def build_database(
    path: Path,
    key: str,
    texts: Sequence[str],
    vectors: Matrix,
    model_id: str,
    passages_per_document: int,
) -> None:
    """Write documents, passages (vectors + texts) and the state row, then rename into place."""
    from sqlalchemy import insert

    from acuerdo.index.db import open_database
    from acuerdo.index.models import Document, IndexState, Passage
    from acuerdo.index.storage import content_hash

    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    sessions = open_database(f"sqlite:///{tmp}")
    engine = sessions.kw["bind"]
    count = len(texts)
    documents = (count + passages_per_document - 1) // passages_per_document
    print(f"[scale] writing {count} passages to {path}…", file=sys.stderr)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(IndexState.__table__),
            [{"id": 1, "model_id": model_id, "version": 1, "seeded": True}],
        )
        connection.execute(
            insert(Document.__table__),
            [
                {
                    "id": d + 1,
                    "title": f"Boletín sintético {d + 1}",
                    "source_name": f"boletin_{d + 1:05d}.txt",
                    "sha256": hashlib.sha256(f"{key}-doc-{d}".encode()).hexdigest(),
                }
                for d in range(documents)
            ],
        )
        for start in range(0, count, 5000):
            connection.execute(
                insert(Passage.__table__),
                [
                    {
                        "id": i + 1,
                        "document_id": i // passages_per_document + 1,
                        "ordinal": i % passages_per_document,
                        "paragraph": i % passages_per_document + 1,
                        "text": texts[i],
                        "sha256": content_hash(texts[i]),
                        "embedding": np.asarray(vectors[i], dtype=np.float32).tobytes(),
                        "model_id": model_id,
                    }
                    for i in range(start, min(count, start + 5000))
                ],
            )
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    tmp.replace(path)
    print(f"[scale] database written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
