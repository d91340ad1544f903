"""Spanish lexical search: accent folding, stop words, Snowball stems, BM25 (bm25s)."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

# bm25s logs every index build at DEBUG through its own handler; that is noise for our users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase without accents, so "soberanía" and "soberania" meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Words of the question itself rather than of its topic: interrogatives and light verbs
# ("¿qué dijeron…?", "¿qué hará…?") match every passage equally badly, so they are dropped too.
_QUESTION_WORDS = """
que cual cuales quien quienes cuando donde como cuanto cuanta cuantos cuantas por porque
dijeron dijo dice dicen decir diran sobre hay habra va van ser hacer hace hacen hara haran
hizo hicieron hecho pasar pasa pasan pasara pasaran paso llamar llama llaman poder puede
pueden podra podran pudo saber sabe the a an of to in on and or is are was were what who
whom which when where why how do does did will would can could about with for from this that
these those it they them their his her my your be been being get got many much there any
some
""".split()

# Documents mix in English captions and users ask in English; both lists are dropped.
_STOP_WORDS = frozenset(fold(w) for w in (*STOPWORDS_SPANISH, *STOPWORDS_EN, *_QUESTION_WORDS))


# "A las 13:30 horas" answers "¿qué hará por la tarde?": a clock time also stands for its part
# of the day, so documents and questions meet on the same word.
_CLOCK_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b")


def _part_of_day(hour: int) -> str:
    if 6 <= hour < 12:
        return "mañana"
    if 12 <= hour < 20:
        return "tarde"
    return "noche"


def time_words(text: str) -> list[str]:
    """For every clock time in `text`, the word for its part of the day (and "hora")."""
    words = []
    for match in _CLOCK_TIME.finditer(text):
        words += [_part_of_day(int(match.group(1))), "hora"]
    return words


class SpanishAnalyzer:
    """Text → stemmed content terms; folded before stemming so words typed without accents match."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("spanish")

    def terms(self, text: str) -> list[str]:
        tokens = _WORD.findall(fold(text)) + [fold(w) for w in time_words(text)]
        words = [w for w in tokens if w not in _STOP_WORDS and not w.isdigit()]
        digits = [w for w in tokens if w.isdigit()]
        return list(self._stemmer.stemWords(words)) + digits


class LexicalIndex:
    """BM25 over passages; rebuilt from the database whenever the passage set changes."""

    def __init__(self, analyzer: SpanishAnalyzer | None = None) -> None:
        self._analyzer = analyzer or SpanishAnalyzer()
        self._ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._bm25: bm25s.BM25 | None = None
        self._terms: list[frozenset[str]] = []

    @property
    def analyzer(self) -> SpanishAnalyzer:
        return self._analyzer

    def __len__(self) -> int:
        return len(self._ids)

    def build(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index `texts` under `ids`, replacing whatever was there."""
        corpus = [self._analyzer.terms(t) or [""] for t in texts]
        self._ids = np.asarray(ids, dtype=np.int64)
        self._terms = [frozenset(doc) for doc in corpus]
        if not corpus:
            self._bm25 = None
            return
        bm25 = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        bm25.index(corpus, show_progress=False)
        self._bm25 = bm25

    def scores(self, query_terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every passage (in build order) for already-analysed terms."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in query_terms if t in self._bm25.vocab_dict and t]
        if not known:
            return np.zeros(len(self._ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, query: str, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Best `k` (ids, scores) with a positive score, best first."""
        scores = self.scores(self._analyzer.terms(query))
        positive = np.flatnonzero(scores > 0)
        if len(positive) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        order = positive[np.argsort(-scores[positive], kind="stable")][:k]
        return self._ids[order], scores[order]

    def term_overlap(self, query: str, passage_id: int) -> float:
        """Share of the query's content terms found in one passage (0 when it has none)."""
        terms = set(self._analyzer.terms(query))
        if not terms:
            return 0.0
        return len(terms & self.passage_terms(passage_id)) / len(terms)

    def passage_terms(self, passage_id: int) -> frozenset[str]:
        """The analysed terms of one indexed passage (empty when it is not indexed)."""
        positions = np.flatnonzero(self._ids == passage_id)
        if len(positions) == 0:
            return frozenset()
        return self._terms[int(positions[0])]
