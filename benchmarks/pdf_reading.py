"""PDF reading speed per page: PDFium reader and layout, in-process and in the reading sandbox.

Two ~50-page files: a TeX-like justified one (tests/pdfs.py: TJ offsets, no space glyphs,
running header, page numbers) and fpdf2 word-processor output. Reports the median of several
runs, seconds per page, and what the child process of `index.sandbox` adds per file.

    .venv/bin/python -m benchmarks.pdf_reading [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pypdfium2
from fpdf import FPDF

from acuerdo.index.ingest import prepare_document
from acuerdo.index.sandbox import ReadLimits
from benchmarks import benchlib
from tests.pdfs import typeset
from tests.test_readers import HEADER, sections


def word_processor_pdf(pages: int) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    chapters = sections(count=3, per_section=6)
    while pdf.page_no() < pages:
        for heading, paragraphs in chapters:
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
            for text in paragraphs:
                pdf.multi_cell(0, 6, text, align="J", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
    return bytes(pdf.output())


def timed(function, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wait-quiet", type=float, default=30.0)
    args = parser.parse_args()
    machine = benchlib.wait_for_quiet(args.wait_quiet)
    chapters = sections(count=3, per_section=6) * 25  # ~50 pages
    rows = []
    for label, data in (
        ("TeX-like, one column", typeset(chapters, header=HEADER, columns=1)[0]),
        ("TeX-like, two columns", typeset(chapters, header=HEADER, columns=2)[0]),
        ("fpdf2 (word processor)", word_processor_pdf(50)),
    ):
        document = pypdfium2.PdfDocument(data)
        pages = len(document)
        document.close()
        with benchlib.CpuMeter() as meter:
            inline = timed(lambda d=data: prepare_document("x.pdf", d, limits=None), args.runs)
            isolated = timed(
                lambda d=data: prepare_document("x.pdf", d, limits=ReadLimits()), args.runs
            )
        rows.append(
            (
                label,
                pages,
                f"{len(data) / 2**20:.2f} MB",
                benchlib.ms(inline / pages),
                benchlib.secs(inline),
                benchlib.secs(isolated),
                meter.describe(),
            )
        )
    report = "\n".join(
        [
            "# PDF reading speed",
            "",
            f"Machine before start: {machine}. Median of {args.runs} runs; read, laid out and "
            "chunked (`prepare_document`), in-process and in the reading sandbox.",
            "",
            benchlib.md_table(
                [
                    "file",
                    "pages",
                    "size",
                    "per page",
                    "whole file",
                    "in the sandbox",
                    "others' CPU",
                ],
                rows,
            ),
        ]
    )
    benchlib.write_report("pdf_reading", report)


if __name__ == "__main__":
    main()
