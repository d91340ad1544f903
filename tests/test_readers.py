"""Each reader on real-looking files of its kind, through the same path an upload takes.

PDFs from two producers (a TeX-like justified file written by hand, see tests/pdfs.py, and
fpdf2's word-processor-like output), one and two columns; HTML with navigation, tables and
code; DOCX with headings, lists and a table. Asserted: word spacing, no running headers or
page numbers, reading order, headings attached to what they introduce, no passage without words.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from fpdf import FPDF

from acuerdo.index.chunking import Chunk
from acuerdo.index.ingest import prepare_document
from tests.pdfs import typeset

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
ORDINALS = (
    "primero segundo tercero cuarto quinto sexto séptimo octavo noveno décimo undécimo "
    "duodécimo decimotercero decimocuarto decimoquinto decimosexto decimoséptimo decimoctavo"
).split()
SENTENCES = [
    "La cooperación técnica entre las instituciones de ambos países se organiza mediante "
    "programas anuales de trabajo conjunto.",
    "Cada programa define responsabilidades, indicadores verificables y mecanismos de "
    "seguimiento transparentes para la ciudadanía.",
    "Las autoridades aduaneras intercambian información sobre cargamentos sospechosos y "
    "coordinan inspecciones en los cruces fronterizos.",
    "Los laboratorios forenses comparten protocolos de análisis químico para identificar "
    "precursores de drogas sintéticas.",
    "El grupo de alto nivel revisa trimestralmente los avances y publica un informe con "
    "recomendaciones concretas.",
]
HEADER = "Manual de cooperación técnica binacional"


def paragraph(number: int) -> str:
    """A paragraph with a phrase of its own, to follow the reading order."""
    body = " ".join(SENTENCES[(number + k) % len(SENTENCES)] for k in range(3))
    return f"{body} Así concluye el apartado {ORDINALS[number]}."


def sections(count: int = 6, per_section: int = 3) -> list[tuple[str, list[str]]]:
    numbers = iter(range(count * per_section))
    return [
        (
            f"Capítulo {ORDINALS[s].capitalize()}",
            [paragraph(next(numbers)) for _ in range(per_section)],
        )
        for s in range(count)
    ]


def vocabulary(*texts: str) -> set[str]:
    return {w.lower() for text in texts for w in re.findall(r"[^\W\d_]+", text)}


def glued(text: str, known: set[str]) -> bool:
    """A passage with a word no one wrote: words run together, or split, by the reader."""
    return any(len(w) > 25 or w.lower() not in known for w in re.findall(r"[^\W\d_]+", text))


def texts_of(source: list[tuple[str, list[str]]]) -> list[str]:
    return [h for h, _ in source] + [p for _, ps in source for p in ps]


def chunks_of(name: str, data: bytes) -> list[Chunk]:
    return list(prepare_document(name, data, limits=None).chunks)


def assert_reads_like_the_source(chunks: list[Chunk], source: list[tuple[str, list[str]]]) -> None:
    known = vocabulary(*texts_of(source))
    assert sum(glued(c.text, known) for c in chunks) < 0.05 * len(chunks)
    assert not [c.text for c in chunks if glued(c.text, known)]  # in fact, none at all
    everything = " ".join(c.text for c in chunks)
    assert HEADER not in everything and not re.search(r"\d", everything)  # header, page numbers
    # Reading order: every paragraph, whole and in order; each under its chapter's heading.
    wanted = [(heading, p) for heading, ps in source for p in ps]
    assert [(c.heading, c.text) for c in chunks] == wanted


@pytest.mark.parametrize("columns", [1, 2])
def test_tex_like_justified_pdf_without_space_glyphs(columns: int) -> None:
    source = sections()
    data, pages = typeset(source, header=HEADER, columns=columns)
    assert pages >= 2 and b"TJ" in data and b"( )" not in data  # words only moved apart
    assert_reads_like_the_source(chunks_of("manual.pdf", data), source)


def test_tex_like_hyphenation_is_joined() -> None:
    # Long words are split at line ends by the generator ("coopera-" / "ción").
    source = [("Capítulo Primero", [paragraph(0), paragraph(1)])]
    data, _ = typeset(source, header=HEADER)
    assert b"-) " in data or b"-)]" in data
    chunks = chunks_of("guion.pdf", data)
    assert [c.text for c in chunks] == source[0][1]


class Report(FPDF):
    """A word-processor-like report: running header, "Página N de M" footer, bold headings."""

    def header(self) -> None:
        self.set_font("DejaVu", size=8)
        self.cell(0, 8, HEADER, align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", size=8)
        self.cell(0, 10, f"Página {self.page_no()} de {{nb}}", align="C")


@pytest.mark.skipif(not FONT_BOLD.exists(), reason="needs DejaVu TrueType fonts")
def test_word_processor_pdf_with_headings_lists_header_and_footer() -> None:
    pdf = Report()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.add_font("DejaVu", style="B", fname=str(FONT_BOLD))
    source = sections(count=4)
    lead_in = "Los compromisos del programa de cooperación son los siguientes:"
    items = ["• intercambiar información aduanera", "• coordinar inspecciones fronterizas"]
    pdf.add_page()
    for number, (heading, paragraphs) in enumerate(source):
        pdf.set_font("DejaVu", style="B", size=15)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=11)
        for text in paragraphs:
            pdf.multi_cell(0, 6, text, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if number == 1:
            pdf.multi_cell(0, 6, lead_in, new_x="LMARGIN", new_y="NEXT")
            for item in items:
                pdf.multi_cell(0, 6, item, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            pdf.multi_cell(0, 6, "La relación México-\nEstados Unidos exige coopera-\nción.")
            pdf.ln(3)
    chunks = chunks_of("informe.pdf", bytes(pdf.output()))
    assert pdf.page_no() >= 2
    texts = [c.text for c in chunks]
    everything = " ".join(texts)
    assert HEADER not in everything and "Página" not in everything
    assert not re.search(r"\d", everything)
    # The list stays with its lead-in; the short sentence after it, hyphenation joined, is too
    # short to stand alone and goes with them.
    relation = "La relación México-Estados Unidos exige cooperación."
    assert f"{lead_in}\n{items[0]}\n{items[1]}\n{relation}" in texts
    for heading, paragraphs in source:  # every paragraph whole, under its own heading
        assert [c.heading for c in chunks if c.text in paragraphs] == [heading] * len(paragraphs)
    known = vocabulary(
        *texts_of(source), lead_in, *items, "La relación México-Estados Unidos exige"
    )
    assert not [t for t in texts if glued(t, known)]


def test_pdf_with_one_line_per_page_is_read_not_called_scanned() -> None:
    # Every line is near the top and alike but for its number: the running-header filter took
    # them all, and the PDF was refused as scanned. A page's only text is its body.
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    lines = [f"Acta numero {i} de la comision de seguridad" for i in range(1, 6)]
    for line in lines:
        pdf.add_page()
        pdf.cell(0, 10, line)
    chunks = chunks_of("fivepages.pdf", bytes(pdf.output()))
    assert "\n".join(c.text for c in chunks) == "\n".join(lines)


class Minutes(FPDF):
    """One short body line per page between a numbered running header and a page footer."""

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, f"Comision de seguridad - sesion {self.page_no()}", align="R")
        self.ln(20)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"Pagina {self.page_no()} de {{nb}}", align="C")


MINUTES = [
    "Se aprueba el orden del dia de la sesion.",
    "Los laboratorios forenses comparten protocolos de analisis quimico.",
    "Las autoridades aduaneras coordinan inspecciones en los cruces.",
    "El grupo de alto nivel revisa los avances y publica un informe.",
]


def _read_minutes(bodies: list[str]) -> str:
    """`Minutes` with one body line per page ("" leaves the page with its header and number
    only), read; every passage is asserted to have no heading."""
    pdf = Minutes()
    for body in bodies:
        pdf.add_page()
        if body:
            pdf.set_font("Helvetica", size=11)
            pdf.set_y(120)
            pdf.cell(0, 10, body)
    chunks = chunks_of("sesiones.pdf", bytes(pdf.output()))
    assert not [c.heading for c in chunks if c.heading]
    return "\n".join(c.text for c in chunks)


def test_pdf_running_header_and_footer_are_dropped_around_one_line_pages() -> None:
    everything = _read_minutes(MINUTES)
    assert "Comision" not in everything and "Pagina" not in everything
    assert everything == "\n".join(MINUTES)


def test_pdf_running_header_stays_out_of_a_page_that_holds_nothing_else() -> None:
    """A blank or figure-only page keeps its header and number: they are still no text."""
    everything = _read_minutes([*MINUTES[:2], "", *MINUTES[2:]])
    assert "Comision" not in everything and "Pagina" not in everything
    assert everything == "\n".join(MINUTES)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Guía de trámites</title>
<script>var x = 1;</script></head><body>
<header><nav><a href="/">Inicio</a> · <a href="/tramites">Trámites</a></nav></header>
<div class="layout"><aside role="navigation"><ul><li><a href="#a">Requisitos</a></li></ul></aside>
<main>
<h1>Guía de trámites</h1>
<h2>Requisitos</h2>
<p>Para solicitar la constancia se necesitan los documentos siguientes:</p>
<ul><li>Identificación oficial vigente.</li><li>Comprobante de domicilio reciente.</li></ul>
<h2>Costos</h2>
<table><tr><th>Trámite</th><th>Costo</th></tr>
<tr><td>Constancia simple</td><td>150 pesos</td></tr>
<tr><td>Constancia certificada</td><td>300 pesos</td></tr></table>
<h2>Consulta automática</h2>
<p>El servicio también responde a consultas automáticas como esta:</p>
<pre>curl -s https://ejemplo.mx/api/constancias
  --data folio=123</pre>
<p>…</p>
</main></div>
<footer><p>© 2026 Gobierno. Todos los derechos reservados.</p></footer>
</body></html>"""


def test_html_with_navigation_tables_and_code() -> None:
    chunks = chunks_of("guía.html", PAGE.encode())
    assert [(c.heading, c.text) for c in chunks] == [
        (
            "Guía de trámites › Requisitos",
            "Para solicitar la constancia se necesitan los documentos siguientes:\n"
            "Identificación oficial vigente.\nComprobante de domicilio reciente.",
        ),
        (
            "Guía de trámites › Costos",
            "Trámite | Costo\nConstancia simple | 150 pesos\nConstancia certificada | 300 pesos",
        ),
        (  # a line of code is no passage by itself: it goes with the sentence leading into it
            "Guía de trámites › Consulta automática",
            "El servicio también responde a consultas automáticas como esta:\n"
            "curl -s https://ejemplo.mx/api/constancias\n--data folio=123",
        ),
    ]


def test_docx_with_headings_lists_and_a_table() -> None:
    document = docx.Document()
    document.add_heading("Reglamento de becas", level=1)
    document.add_heading("Requisitos", level=2)
    document.add_paragraph("Quien solicite una beca debe presentar:")
    document.add_paragraph("Una carta de motivos.", style="List Bullet")
    document.add_paragraph("El historial académico.", style="List Number")
    document.add_heading("Montos", level=2)
    table = document.add_table(rows=2, cols=2)
    for row, cells in enumerate([("Nivel", "Monto mensual"), ("Maestría", "12 000 pesos")]):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_paragraph("1.")  # a stray list number: never a passage
    buffer = io.BytesIO()
    document.save(buffer)
    chunks = chunks_of("reglamento.docx", buffer.getvalue())
    assert [(c.heading, c.text) for c in chunks] == [
        (
            "Reglamento de becas › Requisitos",
            "Quien solicite una beca debe presentar:\nUna carta de motivos.\n"
            "El historial académico.\n"
            # Too short to stand alone, the table joins the passage before it, its heading
            # going along as a line so that it still says what the figures are.
            "Montos\nNivel | Monto mensual\nMaestría | 12 000 pesos",
        ),
    ]


def _in_content_control(paragraph: Any, gallery: str | None = None) -> None:
    """Move `paragraph` (a w:p element) into a block-level content control (w:sdt), as
    templates and forms do; Word's own table of contents is one whose gallery is
    "Table of Contents"."""
    control, properties, content = (OxmlElement(t) for t in ("w:sdt", "w:sdtPr", "w:sdtContent"))
    if gallery is not None:
        part, kind = OxmlElement("w:docPartObj"), OxmlElement("w:docPartGallery")
        kind.set(qn("w:val"), gallery)
        part.append(kind)
        properties.append(part)
    control.append(properties)
    control.append(content)
    paragraph.addprevious(control)
    content.append(paragraph)


def _last_paragraph(document: Any) -> Any:
    """The body's last w:p, through python-docx's public `element` (no private `_p`)."""
    return document.element.body.xpath("./w:p")[-1]


def test_docx_content_controls_are_read_and_tables_of_contents_are_not() -> None:
    document = docx.Document()
    document.add_heading("Programa de reforestación", level=1)
    document.add_paragraph("Índice: 1. Antecedentes 3")
    _in_content_control(_last_paragraph(document), "Table of Contents")
    document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("2. Viveros comunitarios\t5", style="TOC 1")
    document.add_paragraph(
        "El programa se llamará Raíces Compartidas y plantará tres millones de mezquites."
    )
    _in_content_control(_last_paragraph(document))
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Presupuesto"
    _in_content_control(document.element.body.xpath(".//w:tc/w:p")[0])
    table.cell(0, 1).text = "40 millones de pesos"
    buffer = io.BytesIO()
    document.save(buffer)
    chunks = chunks_of("programa.docx", buffer.getvalue())
    assert [c.text for c in chunks] == [
        "El programa se llamará Raíces Compartidas y plantará tres millones de mezquites.\n"
        "Presupuesto | 40 millones de pesos"
    ]


def _run(text: str, *, wrapper: str | None = None, deleted: bool = False) -> BaseOxmlElement:
    """A run of `text`, inside a `wrapper` element (w:sdt's content, w:ins, w:del) if given."""
    run, piece = OxmlElement("w:r"), OxmlElement("w:delText" if deleted else "w:t")
    piece.text = text
    piece.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    run.append(piece)
    if wrapper is None:
        return run
    if wrapper == "w:sdt":
        control, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
        control.append(OxmlElement("w:sdtPr"))
        control.append(content)
        content.append(run)
        return control
    outer = OxmlElement(wrapper)
    outer.append(run)
    return outer


def test_docx_words_in_inline_controls_and_tracked_insertions_stay_in_the_quote() -> None:
    document = docx.Document()
    document.add_paragraph()
    sentence = _last_paragraph(document)
    for element in (
        _run("El programa se llama "),
        _run("Raíces Compartidas", wrapper="w:sdt"),  # a form field's value
        _run(" y durará", wrapper="w:ins"),  # typed with track changes on
        _run(" tres", wrapper="w:del", deleted=True),  # struck out: not in the text
        _run(" cinco años en la cuenca del río Bravo."),
    ):
        sentence.append(element)
    buffer = io.BytesIO()
    document.save(buffer)
    chunks = chunks_of("programa.docx", buffer.getvalue())
    assert [c.text for c in chunks] == [
        "El programa se llama Raíces Compartidas y durará cinco años en la cuenca del río Bravo."
    ]


def _showing_placeholder(control: BaseOxmlElement) -> BaseOxmlElement:
    """Mark a content control (w:sdt) as unfilled: Word shows its prompt in grey."""
    control.find(qn("w:sdtPr")).append(OxmlElement("w:showingPlcHdr"))
    return control


def test_docx_prompts_of_unfilled_content_controls_are_not_quoted() -> None:
    document = docx.Document()
    document.add_paragraph()
    sentence = _last_paragraph(document)
    for element in (
        _run("El programa se llama "),
        _showing_placeholder(_run("Haga clic o pulse aquí para escribir texto.", wrapper="w:sdt")),
        _run(" y durará cinco años en la cuenca del río Bravo."),
    ):
        sentence.append(element)
    document.add_paragraph("Elija un elemento.")
    _in_content_control(_last_paragraph(document))
    _showing_placeholder(document.element.body.xpath("./w:sdt")[-1])
    buffer = io.BytesIO()
    document.save(buffer)
    chunks = chunks_of("programa.docx", buffer.getvalue())
    assert [c.text for c in chunks] == [
        "El programa se llama y durará cinco años en la cuenca del río Bravo."
    ]
