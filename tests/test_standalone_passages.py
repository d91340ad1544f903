"""Passages that stand alone, on real-looking files: a man page as text and as HTML, a DocBook
chapter with navigation and a table of contents, plain text with separators, links and a
navigation bar, a typeset PDF.

Each passage must say something by itself (at least `MIN_PASSAGE_WORDS` words): section titles,
option tags, lone links, "Tabla de contenidos" and "* * *" are never passages, and no text is
lost on the way.
"""

from __future__ import annotations

import re

from fpdf import FPDF

from acuerdo.index.blocks import MIN_PASSAGE_WORDS, word_count
from acuerdo.index.chunking import Chunk
from acuerdo.index.ingest import prepare_document
from tests.pdfs import typeset

# What `groff -Tutf8 -mandoc` makes of a coreutils page (one line per paragraph, the margin
# removed): capital section titles above their text, option tags above an indented description.
MAN_TEXT = """NOMBRE
stdbuf - Ejecuta ORDEN modificando la gestión de buffer de sus flujos de datos estándar.

SINOPSIS
stdbuf OPCIÓN... ORDEN

DESCRIPCIÓN
Ejecuta ORDEN modificando la gestión de los buffers de sus flujos de datos estándar.

Los argumentos obligatorios para las opciones largas son también obligatorios para las cortas.

-i, --input=MODO
       reajusta la gestión del buffer del flujo de datos de entrada

-o, --output=MODO
       reajusta la gestión del buffer del flujo de datos de salida

--rsh-command=/usr/bin/ssh
       usa esta orden para abrir la conexión remota con el otro equipo

--help muestra la ayuda y finaliza

--version
       muestra la versión del programa y finaliza

VÉASE TAMBIÉN
dircolors(1), ls(1), stty(1), xterm(1)

Documentación completa <https://www.gnu.org/software/coreutils/stdbuf>
"""

# The same kind of page as `groff -Thtml` writes it: tags and descriptions in separate <p>.
MAN_HTML = """<html><head><meta charset="utf-8"><title>RSYNC</title></head><body>
<h1 align="center">RSYNC</h1>
<a href="#NOMBRE">NOMBRE</a><br><a href="#OPCIONES">OPCIONES</a><br>
<hr>
<h2>NOMBRE<a name="NOMBRE"></a></h2>
<p style="margin-left:11%; margin-top: 1em">rsync &minus; una herramienta rápida y versátil
para copiar archivos a otros equipos y mantenerlos sincronizados.</p>
<h2>OPCIONES<a name="OPCIONES"></a></h2>
<p style="margin-left:11%; margin-top: 1em"><b>--rsh</b>=<i>ORDEN</i>, <b>-e</b></p>
<p style="margin-left:22%;">Permite elegir el programa de shell remoto que se usará para la
comunicación entre las copias local y remota de rsync.</p>
<p style="margin-left:11%; margin-top: 1em"><b>--version</b>, <b>-V</b></p>
<p style="margin-left:22%;">Muestra el número de versión de rsync y las opciones con las que
fue compilado, y termina.</p>
<hr>
</body></html>"""

# A DocBook chapter as `xsltproc` writes it (the Debian reference, the maintainers' guide).
DOCBOOK = """<html><head><meta charset="utf-8"><title>Capítulo 3. La inicialización</title>
</head><body><div class="navheader"><table width="100%"><tr><th colspan="3">Capítulo 3.
La inicialización del sistema</th></tr><tr><td><a href="ch02.html">Anterior</a></td><td>
</td><td><a href="ch04.html">Siguiente</a></td></tr></table><hr></div>
<div class="chapter"><div class="titlepage"><div><div><h1 class="title">Capítulo 3.
La inicialización del sistema</h1></div></div></div>
<div class="toc"><p><b>Tabla de contenidos</b></p><dl class="toc">
<dt><span class="section"><a href="#s1">3.1. Un resumen del proceso de arranque</a></span></dt>
<dd><dl><dt><span class="section"><a href="#s11">3.1.1. Fase 1: UEFI</a></span></dt></dl></dd>
<dt><span class="section"><a href="#s2">3.2. Arranque de systemd</a></span></dt></dl></div>
<div class="section"><div class="titlepage"><div><div><h2 class="title">3.1. Un resumen del
proceso de arranque</h2></div></div></div>
<p>El sistema Debian arranca en varias fases, y cada una prepara la siguiente hasta que el
gestor de servicios queda a cargo de todo.</p>
<p>Las fases son las siguientes:</p>
<div class="table"><table><tr><th>fase</th><th>programa</th></tr>
<tr><td>1</td><td>UEFI</td></tr><tr><td>2</td><td>cargador de arranque</td></tr>
<tr><td>3</td><td>sistema mini-Debian</td></tr></table></div>
<p>Para ver los mensajes del arranque actual se usa esta orden:</p>
<pre class="screen">$ journalctl -b</pre>
<p>* * *</p>
<p>Véase <a href="https://wiki.debian.org/BootProcess">https://wiki.debian.org/BootProcess</a></p>
</div></div>
<div class="navfooter"><hr><table><tr><td><a href="ch02.html">Anterior</a></td>
<td><a href="index.html">Inicio</a></td><td><a href="ch04.html">Siguiente</a></td></tr>
</table></div></body></html>"""


def chunks_of(name: str, data: bytes) -> list[Chunk]:
    return list(prepare_document(name, data, limits=None).chunks)


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{2,}", text)


def assert_all_stand_alone(chunks: list[Chunk]) -> None:
    short = [c.text for c in chunks if word_count(c.text) < MIN_PASSAGE_WORDS]
    assert not short, short


def test_a_man_page_as_text_keeps_options_with_their_descriptions() -> None:
    chunks = chunks_of("stdbuf.txt", MAN_TEXT.encode())
    assert_all_stand_alone(chunks)
    texts = [c.text for c in chunks]
    assert not [t for t in texts if t.split("\n")[0] in ("SINOPSIS", "VÉASE TAMBIÉN")]
    for tag, description in [
        ("-i, --input=MODO", "reajusta la gestión del buffer del flujo de datos de entrada"),
        ("--rsh-command=/usr/bin/ssh", "usa esta orden para abrir la conexión remota"),
        ("--version", "muestra la versión del programa y finaliza"),
    ]:
        holding = [t for t in texts if tag in t.split("\n")]
        assert len(holding) == 1 and description in holding[0], (tag, texts)
    headings = {c.heading for c in chunks}
    assert {"NOMBRE", "DESCRIPCIÓN"} <= headings  # capital titles are context, not text
    # Nothing lost: every word of the page is in a passage or a heading.
    kept = " ".join(texts) + " " + " ".join(h or "" for h in headings)
    assert set(words(MAN_TEXT)) <= set(words(kept))


def test_a_man_page_as_html_joins_each_tag_to_its_description() -> None:
    chunks = chunks_of("rsync.html", MAN_HTML.encode())
    assert_all_stand_alone(chunks)
    texts = [" ".join(c.text.split()) for c in chunks]
    assert any(t.startswith("--rsh=ORDEN, -e Permite elegir el programa") for t in texts), texts
    assert any(t.startswith("--version, -V Muestra el número de versión") for t in texts), texts
    assert all(c.heading and c.heading.endswith(("NOMBRE", "OPCIONES")) for c in chunks)


def test_a_docbook_chapter_loses_its_navigation_and_table_of_contents() -> None:
    chunks = chunks_of("ch03.html", DOCBOOK.encode())
    assert_all_stand_alone(chunks)
    everything = "\n".join(c.text for c in chunks)
    for chrome in ("Tabla de contenidos", "3.1.1. Fase 1", "3.2. Arranque", "Anterior", "Inicio"):
        assert chrome not in everything
    assert "* * *" not in everything
    texts = [c.text for c in chunks]
    # The table stays with its lead-in, the command with the sentence that introduces it.
    assert any(
        t.startswith("Las fases son las siguientes:\nfase | programa\n1 | UEFI") for t in texts
    ), texts
    assert any("se usa esta orden:\n$ journalctl -b" in t for t in texts), texts
    # The lone link is kept, inside a passage, never as one.
    assert "https://wiki.debian.org/BootProcess" in everything
    assert all(c.heading and c.heading.endswith("arranque") for c in chunks)


def test_plain_text_separators_links_and_navigation_bars_are_not_passages() -> None:
    paragraphs = [
        "Inicio | Noticias | Contacto",
        "El consejo aprobó ayer el presupuesto anual de la biblioteca municipal por unanimidad.",
        "* * *",
        "La nueva sala de lectura abrirá en marzo con horario ampliado durante los fines de "
        "semana.",
        "https://ejemplo.org/biblioteca/sala",
        "Quien lee mucho, sabe mucho.",
    ]
    chunks = chunks_of("boletin.txt", "\n\n".join(paragraphs).encode())
    assert_all_stand_alone(chunks)
    texts = [c.text for c in chunks]
    assert not any("* * *" in t for t in texts)  # a separator is no part of any paragraph
    assert not any(t.strip() in (paragraphs[0], paragraphs[4], paragraphs[5]) for t in texts)
    # The bar reads as a title of what follows: context above the quote; nothing is lost.
    kept = " ".join(texts) + " " + " ".join(c.heading or "" for c in chunks)
    assert set(words(" ".join(paragraphs))) <= set(words(kept))


def test_a_pdf_keeps_short_lines_inside_passages() -> None:
    long = (
        "Las autoridades aduaneras de ambos países intercambian información sobre cargamentos "
        "sospechosos y coordinan inspecciones en los cruces fronterizos."
    )
    source = [
        ("Capítulo primero", [long, "Véase también el anexo."]),
        ("Capítulo segundo", ["Nota.", long.replace("aduaneras", "portuarias")]),
    ]
    data, _ = typeset(source, header="Manual de cooperación")
    chunks = chunks_of("manual.pdf", data)
    assert_all_stand_alone(chunks)
    texts = [c.text for c in chunks]
    assert f"{long}\nVéase también el anexo." in texts
    assert any(t.startswith("Nota.\nLas autoridades portuarias") for t in texts), texts
    assert [c.heading for c in chunks] == ["Capítulo primero", "Capítulo segundo"]


CONTENTS = [
    ("1. Antecedentes del acuerdo", "3"),
    ("2. Tráfico de armas", "5"),
    ("2.1 Fentanilo y precursores", "6"),
    ("3. Conclusiones", "10"),
]
BODY = (
    "Los gobiernos de México y Estados Unidos firmaron un entendimiento para coordinar acciones "
    "contra el crimen organizado transnacional y el tráfico de fentanilo."
)


def test_a_table_of_contents_with_dot_leaders_is_no_passage() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "Contenido", new_x="LMARGIN", new_y="NEXT")
    for title, page in CONTENTS:  # the title and its leader, then the page in its own column
        pdf.cell(150, 6, f"{title} {'.' * (60 - len(title))}", new_x="RIGHT")
        pdf.cell(20, 6, page, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 6, BODY, new_x="LMARGIN", new_y="NEXT")
    text = "Índice\n\n" + "\n".join(f"{t} {'.' * 20} {p}" for t, p in CONTENTS) + f"\n\n{BODY}"
    for name, data in (("informe.pdf", bytes(pdf.output())), ("informe.txt", text.encode())):
        chunks = chunks_of(name, data)
        assert [c.text for c in chunks] == [BODY], name


def test_a_paragraph_ending_in_a_blank_to_fill_in_is_kept() -> None:
    # A form's declaration ends where one signs: a sentence, not an entry of a table of contents.
    declaration = (
        "Declaro bajo protesta de decir verdad que los datos asentados en esta solicitud son "
        "ciertos y que conozco las sanciones por falsedad. Firma: ______________"
    )
    chunks = chunks_of("solicitud.txt", f"{declaration}\n\n{BODY}".encode())
    assert [c.text for c in chunks] == [declaration, BODY]
