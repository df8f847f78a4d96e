"""Loaders turn real files into Documents, and every unreadable file into one DocumentError with a reason."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from knowledge_factories import HTML_PAGE, docx_bytes, encrypted_pdf_bytes, pdf_bytes, zip_bomb_docx_bytes

from ragstage.knowledge import SUPPORTED_EXTENSIONS, DocumentError, load_bytes, load_document


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_markdown_keeps_text_and_takes_title_from_first_heading(tmp_path: Path):
    path = write(tmp_path, "guide.md", "# Stage guide\n\nPlug in the projector.\r\n".encode())
    doc = load_document(path, source="guides/guide.md")
    assert (doc.source, doc.title, doc.kind) == ("guides/guide.md", "Stage guide", "md")
    assert doc.text == "# Stage guide\n\nPlug in the projector."
    assert len(doc.sha256) == 64


def test_utf16_text_with_bom_is_decoded(tmp_path: Path):
    path = write(tmp_path, "notes.txt", codecs.BOM_UTF16_LE + "Überblick: café ☕".encode("utf-16-le"))
    assert load_document(path).text == "Überblick: café ☕"


def test_pdf_text_keeps_page_spans(tmp_path: Path):
    path = write(tmp_path, "runbook.pdf", pdf_bytes(["Alpha page talks about llama.", "Beta page covers Foundry."],
                                                   title="Runbook"))
    doc = load_document(path)
    assert doc.kind == "pdf" and doc.title == "Runbook"
    assert [span.page for span in doc.pages] == [1, 2]
    first, second = doc.pages
    assert "Alpha page" in doc.text[first.start_char:first.end_char]
    assert "Beta page" in doc.text[second.start_char:second.end_char]
    assert doc.page_at(doc.text.index("Foundry")) == 2


def test_pdf_encrypted_with_a_password_is_rejected_with_reason(tmp_path: Path):
    path = write(tmp_path, "secret.pdf", encrypted_pdf_bytes(["Top secret plans."], user_password="hunter2"))
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert err.value.reason == "encrypted PDF (password required)"
    assert str(err.value) == f"{path}: encrypted PDF (password required)"


def test_pdf_encrypted_without_user_password_is_still_readable(tmp_path: Path):
    path = write(tmp_path, "open.pdf", encrypted_pdf_bytes(["Readable by anyone."], user_password=""))
    assert "Readable by anyone" in load_document(path).text


@pytest.mark.parametrize("cut", [0.3, 0.6])
def test_truncated_pdf_is_rejected_as_corrupt(tmp_path: Path, cut: float):
    data = pdf_bytes(["Some text " * 50])
    path = write(tmp_path, "broken.pdf", data[: int(len(data) * cut)])
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert "not a valid PDF" in err.value.reason or "no extractable text" in err.value.reason


def test_docx_keeps_headings_paragraphs_and_tables(tmp_path: Path):
    data = docx_bytes("Quarterly report", [("Latency", "Median TTFT fell to 2.6 seconds.")],
                      table=[["model", "tokens/s"], ["qwen", "38"]])
    doc = load_document(write(tmp_path, "report.docx", data))
    assert doc.kind == "docx" and doc.title == "Quarterly report"
    assert "# Quarterly report" in doc.text and "# Latency" in doc.text
    assert "Median TTFT fell to 2.6 seconds." in doc.text
    assert "qwen | 38" in doc.text


def test_zip_bomb_disguised_as_docx_is_refused_before_unpacking(tmp_path: Path):
    with pytest.raises(DocumentError) as err:
        load_document(write(tmp_path, "bomb.docx", zip_bomb_docx_bytes()))
    assert "zip bomb" in err.value.reason


def test_html_keeps_visible_text_only(tmp_path: Path):
    doc = load_document(write(tmp_path, "page.html", HTML_PAGE.encode()))
    assert doc.kind == "html" and doc.title == "Launch checklist"
    assert "Check the projector cable & the clicker." in doc.text
    assert "# Launch checklist" in doc.text and "## Network" in doc.text
    for hidden in ("SCRIPTWORD", "alert", "color: red", "NOSCRIPTWORD", "onload", "onerror", "<"):
        assert hidden not in doc.text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "empty file"),
        ("binary.txt", b"text\x00\x01\x02more", "binary data, not text"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8 text (undecodable byte at offset 3)"),
        ("fake.pdf", b"just some words", "not a valid PDF (no %PDF header)"),
        ("fake.docx", b"just some words", "not a valid DOCX (not a ZIP archive)"),
        ("corrupt.docx", b"PK\x03\x04garbage", "not a valid DOCX (corrupt ZIP archive)"),
    ],
)
def test_unreadable_files_raise_document_error_with_reason(tmp_path: Path, name: str, data: bytes, reason: str):
    path = write(tmp_path, name, data)
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert err.value.reason == reason
    assert err.value.path == str(path)


def test_unsupported_type_lists_the_supported_ones(tmp_path: Path):
    with pytest.raises(DocumentError) as err:
        load_document(write(tmp_path, "tool.exe", b"MZ\x90\x00"))
    assert err.value.reason == f"unsupported type .exe (supported: {', '.join(SUPPORTED_EXTENSIONS)})"
    assert ".pdf" in err.value.reason and ".docx" in err.value.reason


def test_missing_file_is_a_document_error(tmp_path: Path):
    with pytest.raises(DocumentError, match="cannot read file"):
        load_document(tmp_path / "gone.md")


def test_upload_type_is_sniffed_from_content():
    assert load_bytes("report", pdf_bytes(["Sniffed PDF text."]), source="upload:report").kind == "pdf"
    assert load_bytes("notes", b"plain words", source="upload:notes").kind == "txt"
    assert load_bytes("page", HTML_PAGE.encode(), source="upload:page").kind == "html"
    docx = load_bytes("q.docx", docx_bytes("T", [("H", "body")]), source="upload:q.docx")
    assert docx.source == "upload:q.docx" and docx.kind == "docx"


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("report.txt", lambda: pdf_bytes(["x"]), "content is a PDF but the name ends in .txt"),
        ("notes.md", lambda: docx_bytes("T", [("H", "b")]), "content is a ZIP/DOCX archive but the name ends in .md"),
        ("image.png", lambda: b"\x89PNG\r\n", "unsupported type .png"),
    ],
)
def test_upload_whose_content_disagrees_with_its_name_is_refused(name: str, make, reason: str):
    with pytest.raises(DocumentError) as err:
        load_bytes(name, make(), source=f"upload:{name}")
    assert err.value.reason.startswith(reason)
    assert err.value.path == name


def test_text_mentioning_pdf_header_is_still_text():
    doc = load_bytes("notes.txt", b"The header of a PDF is %PDF-1.7 at the start.", source="upload:notes.txt")
    assert doc.kind == "txt"


def test_right_to_left_and_emoji_text_is_kept():
    text = "مرحبا بالعالم — שלום 👋🏽 résumé"
    assert load_bytes("intl.txt", text.encode(), source="upload:intl.txt").text == text
