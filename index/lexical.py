"""Spanish lexical search: accent folding, stop words, Snowball stems, then BM25."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

from acuerdo.index.bm25 import BM25

# bm25s (whose stop-word lists we use) logs at DEBUG through its own handler: noise for users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_WORD = re.compile(r"\w+", re.UNICODE)


class _WithoutMarks(dict[int, int | None]):
    """A `str.translate` table that drops combining marks, filled in as characters are met
    (a character-by-character generator was the largest Python cost of highlighting)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def fold(text: str) -> str:
    """Lowercase without accents, so "soberanía" and "soberania" meet."""
    return unicodedata.normalize("NFKD", text.lower()).translate(_WITHOUT_MARKS)


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

    # Saved postings (index/lexical_file.py) are reused only when made by the same analysis:
    # bump this with any change to `terms` (or to `corpus.lexical_text`).
    VERSION = 1

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("spanish")

    @property
    def fingerprint(self) -> str:
        """What the terms depend on: this code's version, the stop words and the stemmer."""
        blob = "\n".join(
            [str(self.VERSION), str(Stemmer.version()), "spanish", *sorted(_STOP_WORDS)]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def terms(self, text: str) -> list[str]:
        tokens = _WORD.findall(fold(text)) + [fold(w) for w in time_words(text)]
        words = [w for w in tokens if w not in _STOP_WORDS and not w.isdigit()]
        digits = [w for w in tokens if w.isdigit()]
        return list(self._stemmer.stemWords(words)) + digits


class LexicalIndex:
    """BM25 over passages, keyed by passage id; `updated` returns a changed copy."""

    def __init__(self, analyzer: SpanishAnalyzer | None = None) -> None:
        self._analyzer = analyzer or SpanishAnalyzer()
        self._bm25 = BM25.empty()
        self._ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._rows: dict[int, int] = {}
        self._words: list[str] = []

    @property
    def analyzer(self) -> SpanishAnalyzer:
        return self._analyzer

    def __len__(self) -> int:
        return len(self._bm25)

    def build(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index `texts` under `ids`, replacing whatever was there."""
        fresh = LexicalIndex(self._analyzer).updated(added_ids=ids, added_texts=texts)
        self.__dict__.update(fresh.__dict__)

    def updated(
        self,
        *,
        removed: Iterable[int] = (),
        added_ids: Sequence[int] = (),
        added_texts: Sequence[str] = (),
    ) -> LexicalIndex:
        """A copy without the `removed` passages and with the added ones (only those analysed)."""
        bm25 = self._bm25.without(self._rows[pid] for pid in removed if pid in self._rows)
        ids = self._ids
        if bm25.needs_compaction():
            bm25, kept = bm25.compacted()
            ids = ids[kept]
        bm25 = bm25.appended([self._analyzer.terms(text) for text in added_texts])
        ids = np.concatenate([ids, np.asarray(added_ids, dtype=np.int64)])
        copy = LexicalIndex(self._analyzer)
        copy._bm25 = bm25.ready()
        copy._ids = ids
        copy._rows = {int(pid): row for row, pid in enumerate(ids.tolist()) if bm25.alive[row]}
        copy._words = self._words + [""] * (len(bm25.vocabulary) - len(self._words))
        for word, column in bm25.vocabulary.items():
            if column >= len(self._words):
                copy._words[column] = word
        return copy

    def export(self) -> tuple[list[str], dict[str, npt.NDArray[Any]]]:
        """The vocabulary (in column order) and every array, to save (index/lexical_file.py)."""
        return list(self._words), {"ids": self._ids, **self._bm25.arrays()}

    @classmethod
    def restored(
        cls,
        words: list[str],
        arrays: Mapping[str, npt.NDArray[Any]],
        analyzer: SpanishAnalyzer | None = None,
    ) -> LexicalIndex:
        """The index `export` described, without analysing any text again."""
        index = cls(analyzer)
        index._bm25 = BM25.from_arrays(
            {w: column for column, w in enumerate(words)}, arrays
        ).ready()
        index._ids = arrays["ids"]
        alive = index._bm25.alive
        index._rows = {pid: row for row, pid in enumerate(index._ids.tolist()) if alive[row]}
        index._words = words
        return index

    def search(self, query: str, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Best `k` (ids, scores) with a positive score, best first."""
        return self.search_terms(self._analyzer.terms(query), k)

    def search_terms(
        self, terms: Sequence[str], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """`search` for a question already analysed (`analyzer.terms`)."""
        scores = self._bm25.scores(terms)
        positive = np.flatnonzero(scores > 0)
        if len(positive) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(positive) > k > 0:
            # Sort only what scores at least the k-th best (ties included, in row order): the
            # same first k as sorting every match, which cost 2 ms for a common word at 100k.
            kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
            positive = positive[scores[positive] >= kth]
        order = positive[np.argsort(-scores[positive], kind="stable")][:k]
        return self._ids[order], scores[order]

    def term_overlap(self, query: str, passage_id: int) -> float:
        """Share of the query's content terms found in one passage (0 when it has none)."""
        return self.coverage(frozenset(self._analyzer.terms(query)), passage_id)

    def coverage(self, terms: frozenset[str], passage_id: int) -> float:
        """`term_overlap` for a question already analysed."""
        if not terms:
            return 0.0
        return len(terms & self.passage_terms(passage_id)) / len(terms)

    def rarity(self, terms: Iterable[str]) -> dict[str, float]:
        """Each analysed term's rarity in the library (`BM25.rarity`: 1 in one passage or none,
        0 in every passage)."""
        return {term: self._bm25.rarity(term) for term in terms}

    def passage_terms(self, passage_id: int) -> frozenset[str]:
        """The analysed terms of one indexed passage (empty when it is not indexed)."""
        row = self._rows.get(passage_id)
        if row is None:
            return frozenset()
        return frozenset(self._words[column] for column in self._bm25.row_terms(row))
