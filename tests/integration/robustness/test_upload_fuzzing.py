"""Hostile files through the real upload path (`ragstage.ui.uploads.index_uploads`, the code the
chat runs) and the shared-knowledge path (`persist_upload`): every file ends in a clean index
update or a clear rejection, earlier documents answer exactly as before, nothing lands outside
the upload/knowledge folders, and nothing from a document reaches the page as live HTML."""

from __future__ import annotations

import io
import os
import random
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from fault_kit import QUESTION
from ragstage.knowledge import DocumentError, KnowledgeBase, load_bytes, persist_upload
from ragstage.settings import Settings
from ragstage.ui.citations import SourceRef, passage_markdown
from ragstage.ui.uploads import SessionUploads, index_uploads

EARLIER_QUESTIONS = (QUESTION, "Who starts the llama.cpp server?", "How do I bake sourdough bread?")


def pdf_bytes(*pages: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def encrypted_pdf(plain: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A ZIP that looks like a DOCX and would unpack to 40 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 40_000_000)
    return out.getvalue()


HOSTILE_HTML = (b'<html><head><title>Tide tables</title><script>alert("stolen")</script></head>'
                b'<body onload="alert(1)"><h1>Lighthouse tides</h1><p onclick="alert(2)">Lighthouse keepers '
                b'log the tides twice a day.</p><img src="x" onerror="alert(3)"><a href="javascript:alert(4)">'
                b'tide link</a></body></html>')
RAW_HTML_MARKDOWN = ("# Harbour notes\n\nThe harbour pilot reads <script>alert('md')</script> tide charts "
                     "<img src=x onerror=alert(5)> and ![beacon](http://example.invalid/x.png) daily.\n").encode()


def nasty_corpus() -> list[tuple[str, str, bytes, bool | None]]:
    """(label, upload name, bytes, expected: True indexed / False refused / None either)."""
    rng = random.Random(7)
    valid_pdf = pdf_bytes("Lighthouse keepers log the tides.", "Foghorns sound every thirty seconds.")
    return [
        ("truncated pdf", "runbook.pdf", valid_pdf[: len(valid_pdf) // 2], False),
        ("corrupt pdf", "corrupt.pdf", b"%PDF-1.7\n" + rng.randbytes(4000), False),
        ("encrypted pdf", "locked.pdf", encrypted_pdf(valid_pdf), False),
        ("zip bomb as docx", "report.docx", zip_bomb_docx(), False),
        ("text named docx", "fake.docx", b"just some text", False),
        ("executable", "tool.exe", b"MZ\x90\x00" + rng.randbytes(2000), False),
        ("binary named txt", "data.txt", rng.randbytes(6000), False),
        ("pdf named txt", "sneaky.txt", valid_pdf, False),
        ("empty file", "empty.md", b"", False),
        ("huge single line", "one-line.txt", ("lighthouse " * 90_000).encode(), True),
        ("NUL bytes", "nul-bytes.txt", b"tide\x00table\x00" * 500, None),
        ("mixed encodings", "mixed.md", "# Café\n\nnaïve tide ".encode() + "garçon façade".encode("latin-1"), None),
        ("RTL and emoji", "rtl.md", "# שלום עולם\n\nمرحبا بالعالم 🚀🔥 lighthouse beacon 👩🏽‍🚀\n".encode(), True),
        ("HTML with scripts", "page.html", HOSTILE_HTML, True),
        ("raw HTML in markdown", "harbour.md", RAW_HTML_MARKDOWN, True),
        ("dot-dot name", "../../escape.md", b"# Escape\n\nA lighthouse note trying to escape.\n", True),
        ("absolute name", "/tmp/ragstage-absolute.md", b"# Absolute\n\nAbsolute lighthouse path.\n", True),
        ("windows path name", "C:\\Windows\\evil.md", b"# Windows\n\nA windows lighthouse path.\n", True),
        ("reserved name", "CON.txt", b"Reserved device name about beacons.", True),
        ("reserved name nul", "nul.md", b"# Nul\n\nAnother reserved beacon name.\n", True),
        ("very long name", "a" * 400 + ".md", b"# Long\n\nA very long lighthouse name.\n", True),
        ("hidden name", ".hidden.md", b"# Hidden\n\nA hidden lighthouse file.\n", True),
        ("no name", "", b"plain text with no name at all about tides", None),
    ]


def tree(root: Path, skip: tuple[Path, ...]) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if not any(p == s or s in p.parents for s in skip)}


def answers(index, questions=EARLIER_QUESTIONS) -> list[list[tuple[str, float]]]:
    return [[(h.chunk.chunk_id, round(h.score, 9)) for h in index.search(q, 4)] for q in questions]


def as_uploads(corpus, folder: Path) -> list[SimpleNamespace]:
    """What Chainlit hands the app: the browser's file name, the bytes under a uuid path."""
    elements = []
    for _, name, data, _ in corpus:
        path = folder / uuid.uuid4().hex
        path.write_bytes(data)
        elements.append(SimpleNamespace(name=name, path=str(path), type="file"))
    return elements


@pytest.fixture
def knowledge(knowledge_folder: Path, tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase.open(knowledge_folder, Settings(knowledge_dir=knowledge_folder, cache_dir=tmp_path / "cache"))


async def test_nasty_uploads_end_in_a_clean_update_or_a_clear_refusal(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    corpus = nasty_corpus()
    uploads_dir = tmp_path / "uploads"
    uploads_dir.mkdir()
    before_files = tree(tmp_path, (uploads_dir,))
    shared_answers = answers(knowledge.index)
    session_index = knowledge.index.fork()
    settings = Settings(knowledge_dir=knowledge.folder, upload_max_files=len(corpus), upload_max_mb=10)

    refused_first = sorted(corpus, key=lambda case: case[3] is not False)  # bad files first
    outcomes = []
    for case, element in zip(refused_first, as_uploads(refused_first, uploads_dir)):
        [outcome] = await index_uploads([element], SessionUploads(session_index), settings)
        outcomes.append((case, outcome))
        if not outcome.indexed and not any(o.indexed for _, o in outcomes):
            assert answers(session_index) == shared_answers, f"{case[0]} changed the index"

    for (label, _, _, expected), outcome in outcomes:
        assert outcome.detail and "Traceback" not in outcome.detail, label
        assert not outcome.detail.startswith("could not be read ("), f"{label}: unexpected {outcome.detail}"
        if expected is not None:
            assert outcome.indexed is expected, f"{label}: {outcome.detail}"
    reasons = {case[0]: o.detail for case, o in outcomes}
    assert "encrypted" in reasons["encrypted pdf"]
    assert "zip bomb" in reasons["zip bomb as docx"]

    assert answers(knowledge.index) == shared_answers  # the shared index was never touched
    for question, (top_before, *_), (top_after, *_) in zip(EARLIER_QUESTIONS, shared_answers, answers(session_index)):
        assert top_after[0] == top_before[0], f"{question!r} now finds {top_after[0]}"
    assert tree(tmp_path, (uploads_dir,)) == before_files
    assert not Path("/tmp/ragstage-absolute.md").exists()


async def test_persisted_uploads_stay_inside_the_knowledge_folder(knowledge_folder: Path, tmp_path: Path) -> None:
    outside_before = tree(tmp_path, (knowledge_folder,))
    written = []
    for label, name, data, expected in nasty_corpus():
        try:
            written.append(persist_upload(knowledge_folder, name, data))
        except DocumentError as err:
            assert expected is not True, f"{label} refused: {err}"
            assert err.reason and str(err).endswith(err.reason)
            continue
        assert expected is not False, f"{label} was persisted"
    assert all(path.parent == knowledge_folder.resolve() for path in written)
    assert all(len(path.name) <= 125 and not path.name.startswith(".") for path in written)
    assert tree(tmp_path, (knowledge_folder,)) == outside_before
    # and the folder still opens: a persisted upload never breaks the next start
    reopened = KnowledgeBase.open(knowledge_folder, Settings(knowledge_dir=knowledge_folder, cache_dir=tmp_path / "c2"))
    assert reopened.report.skipped == () or all(reason for _, reason in reopened.report.skipped)
    assert reopened.index.search(QUESTION, 1)[0].chunk.source == "bm25.md"


async def test_document_html_reaches_the_citation_panel_only_escaped(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    index = knowledge.index.fork()
    cases = [c for c in nasty_corpus() if c[0] in ("HTML with scripts", "raw HTML in markdown")]
    uploads_dir = tmp_path / "uploads"
    uploads_dir.mkdir()
    outcomes = await index_uploads(as_uploads(cases, uploads_dir), SessionUploads(index), Settings())
    assert all(o.indexed for o in outcomes)
    rendered = [passage_markdown(SourceRef(1, hit.chunk, hit.score))
                for query in ("lighthouse keepers tides", "harbour pilot tide charts")
                for hit in index.search(query, 2) if hit.chunk.source.startswith("upload:")]
    assert len(rendered) >= 2
    for markdown in rendered:
        assert "<" not in markdown, markdown  # every angle bracket arrives as &lt; / &gt;
        assert "![" not in markdown  # no image the browser would fetch
    assert not any("stolen" in m for m in rendered)  # script bodies are not even indexed from HTML


NAMES = st.one_of(
    st.text(max_size=60),
    st.builds(lambda stem, ext: stem + ext, st.text(max_size=40),
              st.sampled_from([".md", ".txt", ".pdf", ".docx", ".html", ".htm", ".exe", ""])),
    st.sampled_from(["../x.md", "/etc/passwd", "CON", "a/b/../../c.txt", "\x00.md", "..", "."]),
)
CONTENT = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"<html><script>x</script></html>", b"\xef\xbb\xbf# t\n"]),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, data=CONTENT)
def test_any_bytes_under_any_name_load_or_fail_with_a_document_error(name: str, data: bytes, tmp_path: Path) -> None:
    try:
        document = load_bytes(name, data, f"upload:{name}")
    except DocumentError as err:
        assert err.reason and "Traceback" not in err.reason
    else:
        assert document.text.strip()
    folder = tmp_path / f"k-{uuid.uuid4().hex}"
    try:
        path = persist_upload(folder, name, data)
    except DocumentError:
        assert not folder.exists() or not any(folder.iterdir())
    else:
        assert path.parent == folder.resolve() and path.read_bytes() == data
        assert os.sep not in path.name
