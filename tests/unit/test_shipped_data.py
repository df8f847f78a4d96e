"""The content ragstage ships with: the default knowledge, the eval suite, bench prompts, starters.

The eval suite is only worth something if every answerable question's facts really are in its
source document (matched the way `ragstage eval` matches them) and ragstage's own index finds that
source; these tests check both against the real files (PDF and DOCX read with pypdf/python-docx).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import docx
import pypdf
import pytest

from ragstage.evaluation.matching import fact_present
from ragstage.evaluation.suites import load_bench_prompts, load_eval_suite
from ragstage.knowledge import ChunkIndex, load_document
from ragstage.settings import Settings

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
DATA = REPO / "src" / "ragstage" / "data"
ENGLISH_LOCALE = REPO / "src" / "ragstage" / "ui" / "locales" / "en.json"  # holds the English starters
BUILD_SCRIPT = REPO / "scripts" / "build_knowledge_docs.py"
PDF_NAME = "contoso-model-serving-runbook.pdf"
DOCX_NAME = "contoso-quarterly-evaluation-report.docx"
DOCUMENT_SUFFIXES = {".md", ".txt", ".pdf", ".docx", ".html"}


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


def document_text(path: Path) -> str:
    readers = {".pdf": pdf_text, ".docx": docx_text}
    reader = readers.get(path.suffix, lambda p: p.read_text(encoding="utf-8"))
    return reader(path)


def knowledge_documents() -> list[Path]:
    return sorted(p for p in KNOWLEDGE.rglob("*") if p.is_file() and p.suffix in DOCUMENT_SUFFIXES)


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


SUITE = read_jsonl(DATA / "eval_suite.jsonl")
ANSWERABLE = [q for q in SUITE if q.get("answerable") is True]


# --- eval suite ------------------------------------------------------------------------------


def test_eval_suite_rows_have_exactly_the_documented_fields_and_types():
    for row in SUITE:
        assert set(row) == {"id", "question", "answerable", "facts", "source"}, row
        assert isinstance(row["id"], str) and row["id"], row
        assert isinstance(row["question"], str) and row["question"].strip().endswith("?"), row
        assert isinstance(row["answerable"], bool), row
        assert isinstance(row["facts"], list), row
        if row["answerable"]:
            assert row["facts"] and all(isinstance(f, str) and f.strip() for f in row["facts"]), row
            assert all(alt.strip() for f in row["facts"] for alt in f.split("|")), row
            assert isinstance(row["source"], str) and row["source"], row
        else:
            assert row["facts"] == [] and row["source"] is None, row


def test_eval_suite_has_unique_ids_and_questions():
    ids = [row["id"] for row in SUITE]
    questions = [normalise(row["question"]) for row in SUITE]
    assert len(set(ids)) == len(ids)
    assert len(set(questions)) == len(questions)


def test_eval_suite_is_large_enough_with_unanswerable_questions():
    unanswerable = [row for row in SUITE if not row["answerable"]]
    assert len(SUITE) >= 44
    assert len(unanswerable) >= 10


@pytest.mark.parametrize("row", ANSWERABLE, ids=[row["id"] for row in ANSWERABLE])
def test_every_fact_of_an_answerable_question_is_stated_in_its_source(row):
    source = KNOWLEDGE / row["source"]
    assert source.is_file(), f"{row['id']}: source {row['source']} does not exist"
    text = document_text(source)
    for fact in row["facts"]:
        assert fact_present(fact, text), f"{row['id']}: {fact!r} not in {row['source']}"


def test_the_shipped_suite_and_bench_prompts_load_with_the_eval_loaders():
    cases = load_eval_suite(DATA / "eval_suite.jsonl")
    assert [case.case_id for case in cases] == [row["id"] for row in SUITE]
    prompts = load_bench_prompts(DATA / "bench_prompts.jsonl")
    assert [prompt.question for prompt in prompts] == [p["question"] for p in read_jsonl(DATA / "bench_prompts.jsonl")]


def test_every_knowledge_document_is_the_source_of_some_question():
    used = {row["source"] for row in ANSWERABLE}
    documents = {p.relative_to(KNOWLEDGE).as_posix() for p in knowledge_documents()}
    assert documents - used == set()


@pytest.fixture(scope="module")
def default_index() -> ChunkIndex:
    settings = Settings()
    index = ChunkIndex(settings.chunk_size_tokens, settings.chunk_overlap_tokens)
    for path in knowledge_documents():
        index.add(load_document(path, source=path.relative_to(KNOWLEDGE).as_posix()))
    return index


def test_every_answerable_question_retrieves_its_source_above_the_score_floor(default_index):
    """With default settings, as in the app: top_k passages, and only scores above the floor count."""
    settings = Settings()
    misses = []
    for row in ANSWERABLE:
        hits = default_index.search(row["question"], settings.top_k)
        gold = [hit for hit in hits if hit.chunk.source == row["source"]]
        if not gold or gold[0].score < settings.score_floor:
            misses.append((row["id"], [hit.chunk.source for hit in hits]))
    assert misses == []


# --- bench prompts and starters --------------------------------------------------------------


def test_bench_prompts_are_five_short_distinct_questions():
    prompts = read_jsonl(DATA / "bench_prompts.jsonl")
    assert len(prompts) == 5
    assert len({p["id"] for p in prompts}) == 5
    for prompt in prompts:
        assert set(prompt) == {"id", "question"}
        assert prompt["question"].endswith("?") and len(prompt["question"]) <= 80


def test_starters_are_four_labelled_questions_for_the_chat():
    starters = json.loads(ENGLISH_LOCALE.read_text(encoding="utf-8"))["starters"]
    assert isinstance(starters, list) and len(starters) == 4
    assert len({s["label"] for s in starters}) == 4
    for starter in starters:
        assert set(starter) == {"label", "message"}
        assert 0 < len(starter["label"]) <= 24
        assert starter["message"].endswith("?")


def test_starters_and_bench_prompts_are_answerable_suite_questions():
    """So their facts are checked against the sources and their retrieval by the tests above."""
    starters = json.loads(ENGLISH_LOCALE.read_text(encoding="utf-8"))["starters"]
    prompts = read_jsonl(DATA / "bench_prompts.jsonl")
    answerable = {row["question"] for row in ANSWERABLE}
    assert {s["message"] for s in starters} <= answerable
    assert {p["question"] for p in prompts} <= answerable


def test_every_languages_starters_find_the_english_starters_source(default_index):
    """A starter clicked in Ukrainian or Chinese asks the English documents: its technical terms
    (BM25Okapi, k1, SLM...) must still retrieve the source the English starter is answered from,
    above the score floor, or the reader gets "not covered" from a demo button."""
    from ragstage.ui.locale import load_locale, locale_codes

    settings = Settings()
    source_of = {row["question"]: row["source"] for row in ANSWERABLE}
    english = json.loads(ENGLISH_LOCALE.read_text(encoding="utf-8"))["starters"]
    misses = []
    for code in locale_codes():
        for mine, theirs in zip(load_locale(code).starters, english, strict=True):
            hits = default_index.search(mine.message, settings.top_k)
            if not hits or hits[0].chunk.source != source_of[theirs["message"]] or hits[0].score < settings.score_floor:
                misses.append((code, mine.label, [(h.chunk.source, round(h.score, 2)) for h in hits]))
    assert misses == []


# --- knowledge folder and its generated documents --------------------------------------------


def test_knowledge_folder_has_at_least_12_documents_including_a_pdf_and_a_docx():
    documents = knowledge_documents()
    assert len(documents) >= 12
    assert {p.suffix for p in documents} >= {".md", ".pdf", ".docx"}


@pytest.mark.parametrize("path", sorted(KNOWLEDGE.glob("*.md")), ids=lambda p: p.name)
def test_markdown_documents_have_a_title_and_sections(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert sum(line.startswith("## ") for line in lines) >= 3


def _build_into(folder: Path) -> Path:
    subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(folder)], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return _build_into(tmp_path_factory.mktemp("built"))


def test_build_script_writes_a_multipage_pdf_with_a_text_layer(built):
    reader = pypdf.PdfReader(built / PDF_NAME)
    assert len(reader.pages) >= 3
    assert all(len(page.extract_text().split()) > 30 for page in reader.pages)
    assert reader.metadata.title == "Contoso model serving runbook"
    assert normalise("The SLM server listens on port 8101.") in normalise(pdf_text(built / PDF_NAME))


def test_build_script_writes_a_docx_with_real_headings(built):
    document = docx.Document(str(built / DOCX_NAME))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"Summary", "Method", "Results", "Decision", "Next steps"} <= set(headings)
    assert document.core_properties.title == "Contoso quarterly evaluation report, Q3 2025"
    assert "escalated 31% of the questions" in docx_text(built / DOCX_NAME)


def test_build_script_output_is_byte_for_byte_reproducible(built, tmp_path):
    again = _build_into(tmp_path)
    for name in (PDF_NAME, DOCX_NAME):
        assert (built / name).read_bytes() == (again / name).read_bytes()


def test_committed_pdf_and_docx_hold_what_the_build_script_writes(built):
    """Compared as normalised text: line wrapping may differ between fpdf2 versions."""
    assert normalise(pdf_text(KNOWLEDGE / PDF_NAME)) == normalise(pdf_text(built / PDF_NAME))
    assert normalise(docx_text(KNOWLEDGE / DOCX_NAME)) == normalise(docx_text(built / DOCX_NAME))
