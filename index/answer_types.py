"""What kind of answer a question asks for, and whether a passage holds one.

Classic question answering: "¿cuándo…?" wants a date or a time, "¿quién…?" a person or an
office, "¿cuántos…?" a quantity, "¿cada cuánto…?" a frequency, "¿dónde…?" a place. The paragraph
that repeats a question's names rarely says what was asked; the one holding the kind of answer
asked for is the likelier one. Spanish and English, accents optional; no list of the documents'
own words.
"""

from __future__ import annotations

import re

from acuerdo.index.lexical import fold

# Order matters: "cada cuánto" is a frequency before it is a quantity.
_QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "how_often",
        re.compile(
            r"\b(cada cuant[oa]s?|con que frecuencia|cuantas veces|how often|how frequently"
            r"|how many times)\b"
        ),
    ),
    (
        "when",
        re.compile(
            r"\b(cuando|que dia|que fecha|en que fecha|a que hora|desde cuando|hasta cuando"
            r"|en que ano|en que mes|que horario|when|what time|what date|which date"
            r"|what day|until when)\b"
        ),
    ),
    (
        "how_many",
        re.compile(
            r"\b(cuant[oa]s?|que porcentaje|que cantidad|que monto|how many|how much"
            r"|what percentage|what share|what amount)\b"
        ),
    ),
    ("who", re.compile(r"\b(quien|quienes|who|whom)\b")),
    ("where", re.compile(r"\b(donde|adonde|en que lugar|en que ciudad|where)\b")),
)

_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre"
    "|diciembre"
)
_WEEKDAYS = "lunes|martes|miercoles|jueves|viernes|sabado|domingo"
_DATE_OR_TIME = re.compile(
    rf"\b(\d{{1,2}} de ({_MONTHS})|({_MONTHS})( de)? \d{{4}}|\d{{1,2}}[:.]\d{{2}}|({_WEEKDAYS})"
    r"|(19|20)\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|horas|manana|hoy|ayer|a partir del?"
    r"|entrara en vigor|plazo)\b"
)
_QUANTITY = re.compile(
    r"(\d|\bpor ciento\b|%|\bmillones?\b|\bmil\b|\bdoble\b|\bmitad\b"
    r"|\b(uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|veinte"
    r"|treinta|cuarenta|cincuenta|cien|ciento)\b)"
)
_FREQUENCY = re.compile(
    r"\b(cada|diari[oa]s?|semanal(es|mente)?|mensual(es|mente)?|anual(es|mente)?"
    r"|trimestral(es|mente)?|semestral(es|mente)?|bimestral(es|mente)?|periodic[oa]s?"
    r"|regular(es|mente)?|veces|al ano|al mes|por semana|permanente)\b"
)
_OFFICE = re.compile(
    r"\b(president[ea]s?|secretari[oa]s?|subsecretari[oa]s?|cancilleres?|ministr[oa]s?"
    r"|director(a|es)?|comisionad[oa]s?|embajador(a|es)?|gobernador(a|es)?|titular(es)?"
    r"|jef[ea]s?|funcionari[oa]s?|vocer[oa]s?|representantes?|delegacion(es)?|equipo"
    r"|dependencias?|autoridad(es)?|comision|direccion general|secretaria de)\b"
)
_NAME = re.compile(r"\b[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+ [A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")
_PLACE = re.compile(
    r"\b(en|desde|hacia|sede|ciudad|estado|municipio|palacio|frontera|region|cuenca|rio"
    r"|puerto|aeropuerto|embajada|oficinas?|centros?|clinicas?|unidades)\b"
)
_PLACE_NAME = re.compile(r"\b(en|de|desde|hacia) [A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")


def question_type(question: str) -> str | None:
    """The kind of answer a question asks for, or None when it asks for none in particular."""
    folded = fold(question)
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(folded):
            return name
    return None


def holds_answer_type(answer_type: str | None, text: str) -> bool:
    """Whether `text` holds something of the kind asked for (False when no kind is asked)."""
    if answer_type is None:
        return False
    folded = fold(text)
    if answer_type == "when":
        return bool(_DATE_OR_TIME.search(folded))
    if answer_type == "how_many":
        return bool(_QUANTITY.search(folded))
    if answer_type == "how_often":
        return bool(_FREQUENCY.search(folded))
    if answer_type == "who":
        return bool(_OFFICE.search(folded) or _NAME.search(text))
    if answer_type == "where":
        return bool(_PLACE_NAME.search(text) and _PLACE.search(folded))
    return False
