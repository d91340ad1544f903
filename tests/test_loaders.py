"""Loaders on small real files written by the tests: titles, paragraphs, user-facing errors."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fpdf import FPDF
from pypdf import PdfWriter

from acuerdo.index.errors import (
    AcuerdoError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncodingError,
    UnsupportedFormatError,
)
from acuerdo.index.loaders import (
    SUPPORTED_EXTENSIONS,
    formats_listed,
    load_bytes,
    load_path,
    safe_file_name,
    upload_name,
)
from acuerdo.index.source_files import MAX_FILE_BYTES, check_size

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LONG_1 = (
    "En un comunicado conjunto, ambos gobiernos señalaron que el objetivo es trabajar para "
    "desmantelar a los grupos del crimen organizado transnacionales mediante una cooperación "
    "reforzada entre las instituciones de seguridad nacional."
)
LONG_2 = (
    "Además, destacaron que México y Estados Unidos colaboran para atender el movimiento ilegal "
    "de personas a través de la frontera y detener el tráfico de fentanilo y de armas."
)


def assert_user_message(error: pytest.ExceptionInfo[AcuerdoError], *fragments: str) -> None:
    """A complete Spanish sentence for a user: the expected words, no Python internals."""
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message
    assert message.endswith(".")
    for internal in ("Traceback", "Error", "Exception", 'File "', "b'"):
        assert internal not in message


# --- helpers that write real files -------------------------------------------------------------


def make_pdf(build: Callable[[FPDF], None], *, title: str | None = None) -> bytes:
    pdf = FPDF()
    if FONT.exists():  # DejaVu covers Spanish (and more) as a real embedded TrueType font
        pdf.add_font("DejaVu", fname=str(FONT))
        pdf.set_font("DejaVu", size=11)
    else:  # core fonts encode Latin-1, which is enough for Spanish accents
        pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    build(pdf)
    return bytes(pdf.output())


def spaced_paragraphs(pdf: FPDF) -> None:
    """Paragraphs with vertical space between them, wrapped by fpdf2, one crossing a page."""
    pdf.add_page()
    pdf.multi_cell(0, 6, "Artículo 1", new_x="LMARGIN", new_y="NEXT")
    for paragraph in (LONG_1, LONG_2, "La cooperación será inter-\nnacional y permanente."):
        pdf.ln(4)
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(0, 6, "El texto sigue en la otra página porque el acuerdo entre ambos")
    pdf.add_page()
    pdf.multi_cell(0, 6, "países fue firmado en la capital.")


def make_docx(build: Callable[[docx.document.Document], object]) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- plain text --------------------------------------------------------------------------------


def test_txt_utf8_with_bom_and_crlf() -> None:
    data = "\ufeffPrimera línea\r\nsigue   aquí\r\n\r\n\r\n\r\nOtro párrafo\rfinal\r\n".encode()
    loaded = load_bytes("acta_de-reunión.txt", data)
    assert (loaded.title, loaded.text) == (
        "acta de reunión",
        "Primera línea\nsigue aquí\n\nOtro párrafo\nfinal",
    )


def test_txt_is_nfc_normalised_and_keeps_words() -> None:
    decomposed = "Informe sobre la cooperacio\u0301n\u00a0bilateral, año 2024."
    loaded = load_bytes("informe.TXT", decomposed.encode())
    assert loaded.text == "Informe sobre la cooperación bilateral, año 2024."
    assert loaded.title == "informe"


def test_bidi_marks_pasted_into_a_document_do_not_split_its_words() -> None:
    pasted = "El tráfico de fenta\u200enilo bajó en \u202b2024\u202c según el informe\u200f."
    loaded = load_bytes("informe.txt", pasted.encode())
    assert loaded.text == "El tráfico de fentanilo bajó en 2024 según el informe."


def test_txt_in_latin1_is_refused_with_advice() -> None:
    data = "Primera línea en ASCII\nSegunda línea con eñe".encode("latin-1")
    with pytest.raises(EncodingError) as error:
        load_bytes("notas.txt", data)
    assert_user_message(error, "«notas.txt»", "UTF-8", "línea 1", "Windows-1252")


def test_latin1_error_points_to_the_first_bad_line() -> None:
    data = b"todo bien\nsin acentos\nla cancion del ni\xf1o\n"
    with pytest.raises(EncodingError) as error:
        load_bytes("letra.txt", data)
    assert_user_message(error, "línea 3")


def test_binary_file_renamed_txt() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4
    with pytest.raises(EncodingError) as error:
        load_bytes("foto.txt", png)
    assert_user_message(error, "binario")


def test_utf16_text_gets_its_own_advice() -> None:
    with pytest.raises(EncodingError) as error:
        load_bytes("bloc.txt", "Hola, año nuevo".encode("utf-16"))
    assert_user_message(error, "UTF-16", "UTF-8")


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", "\ufeff".encode()])
def test_empty_files(data: bytes) -> None:
    with pytest.raises(EmptyDocumentError) as error:
        load_bytes("vacío.txt", data)
    assert_user_message(error, "«vacío.txt»")


# --- markdown ----------------------------------------------------------------------------------


def test_markdown_title_headings_and_verbatim_body() -> None:
    source = (
        "Intro antes del título.\n"
        "# Acuerdo de **seguridad**\n"
        "Texto con *énfasis* y [un enlace](https://example.org).\n\n"
        "## Compromisos ##\n"
        "- uno\n- dos\n\n"
        "#etiqueta no es un encabezado\n"
    )
    loaded = load_bytes("acuerdo.md", source.encode())
    assert loaded.title == "Acuerdo de **seguridad**"
    assert loaded.text.split("\n\n") == [
        "Intro antes del título.",
        "Acuerdo de **seguridad**",
        "Texto con *énfasis* y [un enlace](https://example.org).",
        "Compromisos",
        "- uno",
        "- dos",
        "#etiqueta no es un encabezado",
    ]


def test_markdown_code_blocks_keep_their_hash_lines() -> None:
    source = "# Guía\n\n```bash\n# instalar\npip install x\n```\n\n## Uso\nTexto."
    loaded = load_bytes("guía.md", source.encode())
    assert loaded.text == "Guía\n\n```bash\n# instalar\npip install x\n```\n\nUso\n\nTexto."


def test_markdown_without_h1_uses_the_file_stem() -> None:
    loaded = load_bytes("notas_de-campo.md", "## Sección\nTexto.".encode())
    assert loaded.title == "notas_de-campo"
    assert loaded.text == "Sección\n\nTexto."


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_paragraphs_title_hyphenation_and_page_break() -> None:
    loaded = load_bytes("acuerdo.pdf", make_pdf(spaced_paragraphs, title="Acuerdo bilateral"))
    assert loaded.title == "Acuerdo bilateral"
    assert loaded.text.split("\n\n") == [
        "Artículo 1",
        LONG_1,
        LONG_2,
        "La cooperación será internacional y permanente.",
        "El texto sigue en la otra página porque el acuerdo entre ambos países fue firmado en la "
        "capital.",
    ]


def test_pdf_without_spacing_uses_short_lines_and_bullets() -> None:
    lines = [
        "Primera línea de un párrafo que ocupa casi todo el ancho útil de la",
        "página y acaba aquí.",
        "Segundo párrafo pegado al primero, sin espacio vertical entre los",
        "dos, que termina.",
        "• Un elemento de la lista",
        "• Otro elemento",
    ]

    def build(pdf: FPDF) -> None:
        pdf.add_page()
        for number, line in enumerate(lines):
            pdf.text(20, 20 + 6 * number, line)

    loaded = load_bytes("sin_título.pdf", make_pdf(build))
    assert loaded.title == "sin_título"
    assert loaded.text.split("\n\n") == [
        f"{lines[0]} {lines[1]}",
        f"{lines[2]} {lines[3]}",
        lines[4],
        lines[5],
    ]


@pytest.mark.skipif(not FONT.exists(), reason="needs a TrueType font with ligature glyphs")
def test_pdf_ligatures_become_letters() -> None:
    def build(pdf: FPDF) -> None:
        pdf.add_page()
        pdf.text(20, 20, "La ﬁrma del acuerdo ﬂuye.")

    assert load_bytes("liga.pdf", make_pdf(build)).text == "La firma del acuerdo fluye."


def test_pdf_without_text_layer_is_reported_as_scanned() -> None:
    def build(pdf: FPDF) -> None:
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")

    with pytest.raises(EmptyDocumentError) as error:
        load_bytes("escaneo.pdf", make_pdf(build))
    assert_user_message(error, "escaneado", "«escaneo.pdf»")


@pytest.mark.parametrize("data", [b"%PDF-1.7\n esto no es un PDF de verdad", b"%PDF-1.4\n%%EOF"])
def test_corrupt_pdf(data: bytes) -> None:
    with pytest.raises(DocumentError) as error:
        load_bytes("roto.pdf", data)
    assert_user_message(error, "«roto.pdf»", "dañado")


@pytest.mark.parametrize(
    "data", ["Acta de la reunión.\n\nSe acordó…".encode(), bytes(range(256)) * 8]
)
def test_file_named_pdf_that_is_not_a_pdf(data: bytes) -> None:
    """A text or binary file renamed .pdf is not "dañado": it was never a PDF."""
    with pytest.raises(DocumentError) as error:
        load_bytes("acta.pdf", data)
    assert_user_message(error, "«acta.pdf»", "no es un PDF")
    assert "dañado" not in str(error.value)


def test_truncated_pdf() -> None:
    data = make_pdf(spaced_paragraphs)
    with pytest.raises(DocumentError):
        load_bytes("cortado.pdf", data[: len(data) // 3])


def encrypt(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    # RC4 works without the optional "cryptography" package.
    writer.encrypt(user_password=user_password, owner_password="dueño", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_password_protected_pdf() -> None:
    data = encrypt(make_pdf(spaced_paragraphs), user_password="secreto")
    with pytest.raises(DocumentError) as error:
        load_bytes("secreto.pdf", data)
    assert_user_message(error, "protegido")
    assert not isinstance(error.value, EmptyDocumentError)


def test_pdf_restricted_only_by_owner_password_is_read() -> None:
    data = encrypt(make_pdf(spaced_paragraphs, title="Con permisos"), user_password="")
    loaded = load_bytes("permisos.pdf", data)
    assert loaded.title == "Con permisos"
    assert LONG_2 in loaded.text.split("\n\n")


# --- DOCX --------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_core_title() -> None:
    def build(document: docx.document.Document) -> None:
        document.core_properties.title = "Minuta de la reunión"
        document.add_heading("Acuerdos", level=1)
        document.add_paragraph("Primer   párrafo\tcon tabulador.")
        paragraph = document.add_paragraph("Línea uno")
        paragraph.add_run().add_break()
        paragraph.add_run("línea dos")
        document.add_paragraph("")
        table = document.add_table(rows=2, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "Encabezado combinado"
        table.cell(0, 2).text = "Año"
        table.cell(1, 0).text = "México"
        table.cell(1, 1).text = ""
        table.cell(1, 2).text = "2024"
        table.cell(1, 1).add_table(rows=1, cols=1).cell(0, 0).text = "Anidada"
        document.add_paragraph("Después de la tabla.")

    loaded = load_bytes("minuta.docx", make_docx(build))
    assert loaded.title == "Minuta de la reunión"
    assert loaded.text.split("\n\n") == [
        "Acuerdos",
        "Primer párrafo con tabulador.",
        "Línea uno\nlínea dos",
        "Encabezado combinado | Año",  # one block per table row, merged cells once
        "México | 2024",
        "Anidada",  # a table nested in a cell follows its row
        "Después de la tabla.",
    ]
    kinds = [block.kind for block in loaded.blocks]
    assert kinds == ["heading", "paragraph", "paragraph", "row", "row", "row", "paragraph"]


def _wrap_in_content_control(element: object) -> None:
    """Put `element` (a row or a cell) inside a content control, as Word's repeating sections
    and cell controls do."""
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    element.addprevious(sdt)  # type: ignore[attr-defined]
    sdt.append(content)
    content.append(element)


def test_docx_rows_and_cells_inside_content_controls_are_read() -> None:
    def build(document: docx.document.Document) -> None:
        table = document.add_table(rows=3, cols=3)
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"fila {r + 1} columna {c + 1}"
        [tbl] = document.element.body.xpath("./w:tbl")
        rows = tbl.xpath("./w:tr")
        _wrap_in_content_control(rows[1])  # a repeating section holds whole rows
        _wrap_in_content_control(rows[2].xpath("./w:tc")[1])  # a cell control one cell

    loaded = load_bytes("tabla.docx", make_docx(build))
    assert loaded.text.split("\n\n") == [
        " | ".join(f"fila {r} columna {c}" for c in (1, 2, 3)) for r in (1, 2, 3)
    ]


@pytest.mark.parametrize("span", ["0", "²", "abc", "-2"])
def test_docx_odd_grid_spans_neither_refuse_the_file_nor_shift_merges(span: str) -> None:
    def build(document: docx.document.Document) -> None:
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "Estado"
        table.cell(0, 1).merge(table.cell(1, 1)).text = "Viveros"
        table.cell(1, 0).text = "Coahuila"
        [tc] = document.element.body.xpath("./w:tbl/w:tr[1]/w:tc[1]")
        grid_span = OxmlElement("w:gridSpan")
        grid_span.set(qn("w:val"), span)
        tc.get_or_add_tcPr().append(grid_span)

    loaded = load_bytes("tabla.docx", make_docx(build))
    assert loaded.text.split("\n\n") == ["Estado | Viveros", "Coahuila | Viveros"]


def test_docx_cell_merged_down_stands_in_every_row_it_spans() -> None:
    def build(document: docx.document.Document) -> None:
        table = document.add_table(rows=4, cols=3)
        table.cell(0, 0).merge(table.cell(2, 0)).text = "Coahuila"
        table.cell(0, 1).merge(table.cell(0, 2)).text = "Viveros"
        for row, (year, trees) in enumerate([("2025", "40 mil"), ("2026", "55 mil")], start=1):
            table.cell(row, 1).text = year
            table.cell(row, 2).text = trees
        table.cell(3, 0).text = "Sonora"
        table.cell(3, 1).text = "2026"

    loaded = load_bytes("viveros.docx", make_docx(build))
    assert loaded.text.split("\n\n") == [
        "Coahuila | Viveros",
        "Coahuila | 2025 | 40 mil",  # each row stands alone as a passage: its state with it
        "Coahuila | 2026 | 55 mil",
        "Sonora | 2026",
    ]


def test_docx_without_core_title_uses_the_stem() -> None:
    loaded = load_bytes("informe-final.docx", make_docx(lambda d: d.add_paragraph("Texto.")))
    assert (loaded.title, loaded.text) == ("informe-final", "Texto.")


def test_docx_text_after_an_unresolved_entity_is_kept() -> None:
    """An entity is never resolved (it could name a local file), but the words after its
    reference are the document's own."""
    original = make_docx(lambda d: d.add_paragraph("Secreto: ENTIDAD fin de la seguridad."))
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(patched, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                declaration, rest = data.split(b"?>", 1)
                doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
                data = declaration + b"?>" + doctype + rest.replace(b"ENTIDAD", b"&xxe;")
            out.writestr(item, data)
    loaded = load_bytes("entidad.docx", patched.getvalue())
    assert loaded.text == "Secreto: fin de la seguridad."


@pytest.mark.parametrize("kind", ["random", "zip", "doc"])
def test_corrupt_docx(kind: str) -> None:
    if kind == "random":
        data = bytes((i * 37) % 256 for i in range(5000))
    elif kind == "zip":  # a valid zip that is not a Word document
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hola.txt", "hola")
        data = buffer.getvalue()
    else:  # an old .doc (OLE2 header) renamed to .docx
        data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    with pytest.raises(DocumentError) as error:
        load_bytes("dañado.docx", data)
    assert_user_message(error, "«dañado.docx»", "está dañado")


# --- HTML --------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>  Acuerdo
  de   seguridad </title>
<style>p { color: red; }</style><script>var secreto = "no mostrar";</script></head>
<body>
<nav><a href="/">Inicio</a> | <a href="/noticias">Noticias</a></nav>
<h1>Comunicado</h1>
<!-- comentario oculto -->
<p>Ambos   gobiernos
   señalaron el <b>objetivo</b>&nbsp;común &amp; compartido.</p>
<div>Texto en un div<br>con salto de línea</div>
<ul><li>Primer punto</li><li>Segundo <i>punto</i></li></ul>
<blockquote>Una cita textual.</blockquote>
<table><tr><th>País</th><th>Año</th></tr><tr><td>México</td><td>2024</td></tr></table>
<noscript>Active JavaScript</noscript>
<script>document.write("tampoco")</script>
</body></html>"""


def test_html_blocks_become_paragraphs_and_chrome_is_dropped() -> None:
    loaded = load_bytes("página.html", PAGE.encode())
    assert loaded.title == "Acuerdo de seguridad"
    assert loaded.text.split("\n\n") == [
        "Comunicado",
        "Ambos gobiernos señalaron el objetivo común & compartido.",
        "Texto en un div\ncon salto de línea",
        "Primer punto",
        "Segundo punto",
        "Una cita textual.",
        "País | Año",
        "México | 2024",
    ]
    for hidden in ("Inicio", "color", "secreto", "tampoco", "comentario", "JavaScript"):
        assert hidden not in loaded.text


def test_html_title_falls_back_to_h1_then_stem() -> None:
    with_h1 = load_bytes("a.htm", b"<title> </title><h1>Gran <em>t\xc3\xadtulo</em></h1><p>x</p>")
    assert with_h1.title == "Gran título"
    assert load_bytes("nota_breve.HTML", b"<p>Solo texto.</p>").title == "nota_breve"


def test_html_declared_latin1_is_read_as_windows_1252() -> None:
    data = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        b"</head><body><p>El ni\xf1o dijo \x93s\xed\x94 \x96 y pag\xf3 10 \x80.</p></body></html>"
    )
    assert load_bytes("vieja.html", data).text == "El niño dijo “sí” – y pagó 10 €."


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_html_with_a_utf16_byte_order_mark_is_read_as_utf16(encoding: str) -> None:
    page = '<html><head><meta charset="utf-8"></head><body><p>El niño dijo “sí” – 10 €.</p>'
    bom = "\ufeff" if encoding == "utf-16-be" else ""  # the "utf-16" codec writes its own
    assert load_bytes("unicode.html", (bom + page).encode(encoding)).text == (
        "El niño dijo “sí” – 10 €."
    )


def test_html_without_charset_falls_back_from_utf8() -> None:
    assert load_bytes("u.html", "<p>Canción</p>".encode()).text == "Canción"
    assert load_bytes("w.html", "<p>Canción</p>".encode("cp1252")).text == "Canción"


def test_html_cells_with_paragraphs_and_deep_nesting() -> None:
    table = b"<table><tr><td><p>uno</p><p>dos</p></td>\n<td>tres</td></tr></table>"
    assert load_bytes("t.html", table).text == "uno dos | tres"  # one row, one block
    # Tens of thousands of nested tags must not make the reader quadratic (or recurse).
    deep = b"<div>" * 20000 + b"<p>hondo</p>" + b"</div>" * 20000
    assert load_bytes("hondo.html", deep).text == "hondo"


@pytest.mark.parametrize("charset", ["latin-1", "ISO_8859-1", "us-ascii", "windows-1252"])
def test_html_charset_aliases(charset: str) -> None:
    data = f'<meta charset="{charset}"><p>'.encode() + "“Año” — 5 €</p>".encode("cp1252")
    assert load_bytes("c.html", data).text == "“Año” — 5 €"


def test_html_with_only_chrome_is_empty() -> None:
    with pytest.raises(EmptyDocumentError):
        load_bytes("menu.html", b"<nav>Inicio</nav><script>x()</script>")


# --- names, sizes, dispatch, paths -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ana\\Documentos\\informe.pdf", "informe.pdf"),
        ("carpeta/sub\\mixto.docx", "mixto.docx"),
        ("  in\x00for\x07me\n final.txt  ", "informe final.txt"),
        ("factura\u202efdp.exe", "facturafdp.exe"),
        ("acta. ", "acta"),
        ("cooperacio\u0301n.md", "cooperación.md"),
    ],
)
def test_safe_file_name(raw: str, expected: str) -> None:
    assert safe_file_name(raw) == expected


def test_safe_file_name_limits_length_but_keeps_extension() -> None:
    name = safe_file_name("/tmp/" + "á" * 300 + ".docx")
    assert len(name) <= 120
    assert name.endswith(".docx")
    assert name.startswith("ááá")


@pytest.mark.parametrize("raw", ["", "   ", "..", "../", "a/b/", "\x00\x01", "\\"])
def test_safe_file_name_with_nothing_usable(raw: str) -> None:
    with pytest.raises(DocumentError) as error:
        safe_file_name(raw)
    assert_user_message(error, "nombre del archivo")


def test_check_size() -> None:
    check_size(0)
    check_size(MAX_FILE_BYTES)
    with pytest.raises(DocumentTooLargeError) as error:
        check_size(MAX_FILE_BYTES + 1)
    assert_user_message(error, "20 MB", "20,1 MB")
    with pytest.raises(DocumentTooLargeError) as error:
        check_size(35 * 1024 * 1024)
    assert_user_message(error, "35,0 MB")


def test_load_bytes_checks_size_too() -> None:
    with pytest.raises(DocumentTooLargeError):
        load_bytes("grande.txt", b"a" * (MAX_FILE_BYTES + 1))


@pytest.mark.parametrize("name", ["hoja.xlsx", "viejo.DOC", "sin_extension", "imagen.png"])
def test_unsupported_extension(name: str) -> None:
    with pytest.raises(UnsupportedFormatError) as error:
        load_bytes(name, b"contenido")
    assert_user_message(error, *SUPPORTED_EXTENSIONS, "No puedo leer")


def test_extension_dispatch_ignores_case_and_folders() -> None:
    loaded = load_bytes("C:\\docs\\Nota.MD", "# Título\nTexto.".encode())
    assert (loaded.title, loaded.text) == ("Título", "Título\n\nTexto.")


def test_load_path_reads_checks_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "minuta_final.txt"
    path.write_bytes(b"Uno.\n\nDos.")
    assert (load_path(path).title, load_path(path).text) == ("minuta final", "Uno.\n\nDos.")

    with pytest.raises(DocumentError) as error:
        load_path(tmp_path / "no_existe.pdf")
    assert_user_message(error, "No encuentro el archivo", "no_existe.pdf")

    with pytest.raises(DocumentError) as error:
        load_path(tmp_path)
    assert_user_message(error, "No puedo leer")


def test_load_path_refuses_big_files_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "enorme.pdf"
    with path.open("wb") as handle:  # sparse: big on paper, nothing written
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DocumentTooLargeError):
        load_path(path)


@pytest.mark.parametrize(
    ("file_name", "mime", "expected"),
    [
        (None, "application/pdf", "documento.pdf"),
        (None, "text/markdown", "documento.md"),
        ("informe.DOCX", None, "informe.DOCX"),
        ("a/b/página.htm", "text/html", "página.htm"),
        ("informe", "application/pdf", "informe.pdf"),  # saved without an extension
    ],
)
def test_upload_name_from_name_or_mime_type(
    file_name: str | None, mime: str | None, expected: str
) -> None:
    assert upload_name(file_name, mime) == expected


def test_upload_name_refuses_unknown_formats_listing_every_extension() -> None:
    with pytest.raises(UnsupportedFormatError) as error:
        upload_name(None, "image/png")
    assert_user_message(error, "«documento»", ".txt, .md, .pdf, .docx, .html y .htm")
    assert formats_listed() == ".txt, .md, .pdf, .docx y .html"
