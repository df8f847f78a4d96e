"""Real documents built in memory: PDFs (fpdf2, encrypted with pypdf), DOCX (python-docx), HTML."""

from __future__ import annotations

import io
import zipfile

from ragstage.knowledge import Document


def pdf_bytes(pages: list[str], title: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def encrypted_pdf_bytes(pages: list[str], user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(title: str, sections: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for heading, body in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table):
            for cell, value in zip(row.cells, values):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx_bytes(unpacked_mb: int = 64) -> bytes:
    """A ZIP that looks like a DOCX but unpacks to `unpacked_mb` MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/padding.bin", b"\0" * (unpacked_mb * 1024 * 1024))
    return out.getvalue()


HTML_PAGE = """<!doctype html><html><head><title>Launch checklist</title>
<style>body { color: red } .secret { display: none }</style>
<script>alert("steal cookies"); var hidden = "SCRIPTWORD";</script></head>
<body onload="evil()"><h1>Launch checklist</h1><p>Check the <b>projector</b> cable &amp; the clicker.</p>
<noscript>NOSCRIPTWORD</noscript><h2>Network</h2><ul><li>Wi-Fi off</li><li>Airplane mode on</li></ul>
<img src="x" onerror="alert(1)"></body></html>"""


def text_document(text: str, source: str = "doc.txt", kind: str = "txt") -> Document:
    return Document(source=source, title=source, text=text, kind=kind, sha256="0" * 64)
