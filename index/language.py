"""Which language a question or passage is in, cheaply: English and Spanish function words
counted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

if TYPE_CHECKING:
    from acuerdo.index.corpus import Corpus

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPANISH = frozenset(STOPWORDS_SPANISH)
_ENGLISH = frozenset(STOPWORDS_EN)
# Words in both lists ("a", "no", "me"…) say nothing about the language.
_ONLY_ENGLISH = _ENGLISH - _SPANISH
_ONLY_SPANISH = _SPANISH - _ENGLISH
# Question words carry the language of short questions ("Where?", "¿Cuándo?").
_ONLY_ENGLISH |= {"what", "who", "when", "where", "why", "how", "which", "did", "does"}
_ONLY_SPANISH |= {"qué", "que", "quién", "quien", "cuándo", "cuando", "dónde", "donde", "cómo"}


def looks_english(text: str) -> bool:
    """True when the text has more English-only than Spanish-only function words.

    Accented letters or ¿/¡ tip a tie towards Spanish; a text with neither kind of word
    (a name, a number) counts as Spanish, the language of the documents.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in _ONLY_ENGLISH for w in words)
    spanish = sum(w in _ONLY_SPANISH for w in words)
    if re.search(r"[¿¡ñáéíóú]", text.lower()):
        spanish += 1
    return english > spanish


def is_english_aside(corpus: Corpus, pid: int) -> bool:
    """A passage in English right after one that is not: a photo caption or credit inside a
    Spanish communiqué ("U.S. Secretary of State Marco Rubio meets with…").

    A passage of a document written in English follows a paragraph in its own language (or
    opens its document), so it is not an aside.
    """
    previous = corpus.previous.get(pid)
    return (
        previous is not None
        and looks_english(corpus.records[pid].text)
        and not looks_english(corpus.records[previous].text)
    )
