"""A synthetic Spanish document: varied, realistic-sounding paragraphs, none repeated.

Used to measure indexing throughput without shipping a real document. Paragraphs are built from
sentence templates over public-policy vocabulary; a shared `seen` set keeps every paragraph (and
every sentence) unique across documents, so the library can never reuse a stored embedding.
"""

from __future__ import annotations

import random

ACTORS = (
    "la Secretaría de Hacienda",
    "el Ministerio de Salud",
    "la Comisión Nacional del Agua",
    "el gobierno federal",
    "la alcaldía de la capital",
    "el Instituto de Estadística",
    "la Fiscalía General",
    "el Banco Central",
    "la Secretaría de Educación Pública",
    "el Consejo de Ministros",
    "la Agencia de Protección Civil",
    "el Senado de la República",
    "la Cámara de Diputados",
    "el Tribunal Electoral",
    "la Comisión de Derechos Humanos",
    "el gobierno estatal",
    "la Secretaría de Economía",
    "la Dirección de Aduanas",
    "el Servicio Meteorológico",
    "la Universidad Nacional",
    "el Instituto de Vivienda",
    "la Secretaría de Medio Ambiente",
    "la Guardia Nacional",
    "el Ministerio de Transporte",
)
VERBS_PAST = (
    "anunció",
    "presentó",
    "aprobó",
    "puso en marcha",
    "amplió",
    "revisó",
    "publicó",
    "propuso",
    "suspendió",
    "evaluó",
    "financió",
    "coordinó",
    "reforzó",
    "firmó",
)
VERBS_FUTURE = (
    "destinará",
    "ampliará",
    "revisará",
    "publicará",
    "pondrá en marcha",
    "reforzará",
    "evaluará",
    "coordinará",
    "financiará",
    "supervisará",
    "simplificará",
    "reorganizará",
)
PROGRAMS = (
    "un programa de becas para estudiantes de bachillerato",
    "un plan de rehabilitación de carreteras rurales",
    "una estrategia de vacunación en comunidades alejadas",
    "un fondo de apoyo a pequeños productores de café",
    "un sistema de alerta temprana ante inundaciones",
    "una red de clínicas móviles para zonas serranas",
    "un acuerdo de cooperación con los países vecinos",
    "un padrón digital de beneficiarios de pensiones",
    "un registro público de contratos de obra",
    "un protocolo de atención a víctimas de violencia",
    "una convocatoria para proyectos de energía solar",
    "un censo de viviendas afectadas por el sismo",
    "un programa de reforestación en cuencas altas",
    "una plataforma de trámites en línea para empresas",
    "un esquema de créditos para vivienda popular",
    "una campaña contra el consumo de tabaco en jóvenes",
    "un plan de modernización de los puertos del Pacífico",
    "un sistema de monitoreo de la calidad del aire",
    "un mecanismo de revisión de tarifas eléctricas",
    "una estrategia de seguridad en las carreteras federales",
)
PLACES = (
    "Oaxaca",
    "Chiapas",
    "Sonora",
    "Yucatán",
    "Jalisco",
    "Nuevo León",
    "Guerrero",
    "Puebla",
    "Veracruz",
    "Zacatecas",
    "Tabasco",
    "Michoacán",
    "Durango",
    "Quintana Roo",
    "Hidalgo",
    "Baja California",
    "Coahuila",
    "Sinaloa",
    "Tamaulipas",
    "Campeche",
    "la zona metropolitana",
    "los municipios de la costa",
    "la región del Bajío",
    "las comunidades indígenas del norte",
    "la frontera sur",
)
PERIODS = (
    "el primer trimestre",
    "el segundo semestre",
    "los próximos dieciocho meses",
    "el ciclo escolar en curso",
    "la temporada de lluvias",
    "el presente ejercicio fiscal",
    "los últimos cinco años",
    "la próxima década",
    "el periodo de transición",
    "las semanas previas a la elección",
)
MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
GOALS = (
    "reducir los tiempos de espera en los hospitales públicos",
    "garantizar el abasto de agua potable durante el estiaje",
    "disminuir la deserción escolar en secundaria",
    "mejorar la transparencia en el uso de los recursos",
    "atender a las familias desplazadas por la violencia",
    "proteger a los trabajadores del campo frente al calor extremo",
    "aumentar la recaudación sin subir los impuestos",
    "ampliar la cobertura de internet en escuelas rurales",
    "frenar la tala ilegal en las reservas naturales",
    "combatir el contrabando de mercancías en las aduanas",
    "facilitar el acceso al crédito de las pequeñas empresas",
    "reducir las muertes por accidentes de tránsito",
    "recuperar los empleos perdidos durante la crisis",
    "ordenar el crecimiento urbano en las periferias",
    "prevenir los incendios forestales en la temporada seca",
)
SOURCES = (
    "el informe anual de la Auditoría Superior",
    "un estudio de la universidad estatal",
    "las cifras oficiales más recientes",
    "la encuesta nacional de hogares",
    "un reporte de organizaciones civiles",
    "los datos del registro administrativo",
    "la evaluación externa del programa",
    "el diagnóstico presentado ante el Congreso",
)
UNITS = (
    ("por ciento de los hogares", "han recibido algún apoyo"),
    ("millones de pesos", "se ejercieron en obras de infraestructura"),
    ("mil personas", "participaron en las consultas públicas"),
    ("escuelas", "carecen todavía de servicios básicos"),
    ("kilómetros de caminos", "fueron rehabilitados"),
    ("por ciento de los trámites", "ya pueden hacerse en línea"),
    ("municipios", "reportaron daños por las lluvias"),
    ("mil toneladas de residuos", "se recolectan cada día"),
    ("centros de salud", "operan con personal incompleto"),
    ("por ciento de los contratos", "se asignaron sin licitación"),
)
CRITICS = (
    "Organizaciones de la sociedad civil",
    "Especialistas en políticas públicas",
    "Legisladores de oposición",
    "Representantes del sector empresarial",
    "Académicos consultados",
    "Colectivos de vecinos",
    "Sindicatos del sector",
    "Productores agrícolas de la región",
)
CONCERNS = (
    "advirtieron que el presupuesto asignado resulta insuficiente",
    "pidieron que los criterios de selección se hagan públicos",
    "señalaron retrasos en la entrega de los recursos",
    "reclamaron una mayor participación de las comunidades",
    "cuestionaron la falta de indicadores para medir resultados",
    "solicitaron auditorías independientes cada seis meses",
    "destacaron avances, aunque desiguales entre regiones",
    "propusieron mesas de diálogo con las autoridades locales",
)
CONNECTORS = (
    "Además",
    "Por otra parte",
    "Asimismo",
    "En paralelo",
    "Sin embargo",
    "De acuerdo con lo previsto",
    "Como parte del mismo esfuerzo",
    "En una segunda etapa",
    "Al mismo tiempo",
    "Por su parte",
)
OFFICIALS = (
    "la titular de la dependencia",
    "el subsecretario responsable",
    "la gobernadora",
    "el presidente municipal",
    "la coordinadora del programa",
    "el director general",
    "la vocera del gobierno",
    "el comisionado nacional",
)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return (
            f"{_capital(rng.choice(ACTORS))} {rng.choice(VERBS_PAST)} {rng.choice(PROGRAMS)} "
            f"en {rng.choice(PLACES)} durante {rng.choice(PERIODS)}."
        )
    if kind == 1:
        number = rng.choice((rng.randint(3, 97), rng.randint(120, 4800)))
        unit, fact = rng.choice(UNITS)
        return f"Según {rng.choice(SOURCES)}, {number} {unit} {fact} en {rng.choice(PLACES)}."
    if kind == 2:
        return (
            f"{rng.choice(CONNECTORS)}, {rng.choice(ACTORS)} {rng.choice(VERBS_FUTURE)} "
            f"{rng.choice(PROGRAMS)} con el fin de {rng.choice(GOALS)}."
        )
    if kind == 3:
        day = rng.randint(1, 28)
        return (
            f"La medida busca {rng.choice(GOALS)} y deberá estar operando a más tardar el "
            f"{day} de {rng.choice(MONTHS)} de {rng.randint(2025, 2031)}."
        )
    if kind == 4:
        return f"{rng.choice(CRITICS)} {rng.choice(CONCERNS)} en {rng.choice(PLACES)}."
    return (
        f"En conferencia de prensa, {rng.choice(OFFICIALS)} explicó que el objetivo es "
        f"{rng.choice(GOALS)} y que se informará de los avances cada "
        f"{rng.choice(('mes', 'bimestre', 'trimestre', 'semestre'))}."
    )


def paragraphs(
    count: int,
    *,
    seed: int = 0,
    min_chars: int = 300,
    max_chars: int = 500,
    seen: set[str] | None = None,
) -> list[str]:
    """`count` unique paragraphs of `min_chars`..`max_chars` characters (3–5 sentences each)."""
    rng = random.Random(seed)
    seen = seen if seen is not None else set()
    result: list[str] = []
    attempts = 0
    while len(result) < count:
        attempts += 1
        if attempts > count * 200:
            raise RuntimeError("could not generate enough unique paragraphs")
        sentences: list[str] = []
        text = ""
        while len(text) < min_chars:
            sentence = _sentence(rng)
            if sentence in seen or sentence in sentences:
                continue
            sentences.append(sentence)
            text = " ".join(sentences)
        if len(text) > max_chars or text in seen:
            continue
        seen.add(text)
        seen.update(sentences)
        result.append(text)
    return result


def document(count: int, *, seed: int = 0, seen: set[str] | None = None) -> str:
    """A plain-text document: blank-line separated paragraphs (give the title when adding it)."""
    return "\n\n".join(paragraphs(count, seed=seed, seen=seen)) + "\n"
