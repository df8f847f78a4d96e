"""Build the PDF and DOCX documents of the default knowledge base from text kept in this script.

The knowledge folder must show that ragstage reads real PDF and DOCX files, not only Markdown,
so two of its documents are generated here (and committed) instead of being hand-edited binaries.
The output is deterministic: fixed dates, and DOCX zip entries with a fixed timestamp, so a rebuild
with the same library versions changes nothing in git.

Usage: .venv/bin/python scripts/build_knowledge_docs.py [--out DIR]   (default: knowledge/)
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import docx
from fpdf import FPDF
from fpdf.enums import XPos, YPos

REPO_ROOT = Path(__file__).resolve().parent.parent
PDF_NAME = "contoso-model-serving-runbook.pdf"
DOCX_NAME = "contoso-quarterly-evaluation-report.docx"
FIXED_DATE = datetime(2025, 10, 6, 9, 0, 0, tzinfo=timezone.utc)
ZIP_TIMESTAMP = (2025, 10, 6, 9, 0, 0)

Section = tuple[str, tuple[str, ...]]  # (heading, paragraphs)

RUNBOOK_TITLE = "Contoso model serving runbook"
RUNBOOK_PAGES: tuple[tuple[Section, ...], ...] = (
    (
        ("About this runbook", (
            "Contoso is a fictional company. This runbook is a made-up example for ragstage demos.",
            "This runbook covers the two model servers behind Project Lantern: the SLM server and "
            "the LLM server. Both run llama.cpp through llama-cpp-python on the host lantern-gpu-01.",
            "The runbook owner is the platform engineer on duty. The runbook is reviewed every 90 days.",
        )),
        ("Server ports", (
            "The SLM server listens on port 8101. The LLM server listens on port 8102.",
            "Both servers listen on 127.0.0.1 only. Nothing outside the host can reach them directly.",
            "The ragstage app reaches them through RAGSTAGE_SLM_BASE_URL and RAGSTAGE_LLM_BASE_URL.",
        )),
    ),
    (
        ("Health checks", (
            "The health check sends GET /v1/models to each server every 10 seconds.",
            "A server is healthy when /v1/models answers within 2 seconds and lists the expected model.",
            "After 3 failed health checks in a row, the server is restarted automatically.",
            "To restart a server by hand, run: systemctl restart lantern-slm (or lantern-llm).",
        )),
        ("Server flags", (
            "Start each server with --n_ctx 4096, --n_threads 1 and --logits_all false.",
            "Always set --logits_all false: the default of true computes logits for every prompt "
            "token and wastes prefill time.",
            "Run one server process per model. A single process with several models reloads a model "
            "on every switch, which takes 0.25 to 1.5 seconds.",
        )),
    ),
    (
        ("Memory budget", (
            "The SLM server normally uses about 310 MB of resident memory.",
            "The LLM server normally uses about 730 MB of resident memory.",
            "Raise an alert when either server goes above 1.5 GB of resident memory.",
        )),
        ("Incident severity levels", (
            "SEV1: both model servers are down. Response within 15 minutes, day or night.",
            "SEV2: one model server is down, or time to first token stays above 10 seconds. "
            "Response within 1 hour during working hours.",
            "SEV3: a degraded answer quality report. Response within 1 working day.",
            "Server logs are kept for 14 days.",
        )),
    ),
    (
        ("Upgrading a model", (
            "Verify the sha256 checksum of a new GGUF file before it replaces the old one.",
            "Keep the previous model file for 7 days so a rollback takes one command.",
            "After an upgrade, run the smoke test: ragstage eval --limit 10.",
            "Roll back if fact recall drops by more than 5 percentage points against the last report.",
        )),
        ("Planned maintenance", (
            "Planned maintenance happens on Tuesdays between 07:00 and 08:00 Lisbon time.",
            "Announce planned maintenance in the #lantern-ops channel at least 48 hours ahead.",
        )),
    ),
)

REPORT_TITLE = "Contoso quarterly evaluation report, Q3 2025"
REPORT_SECTIONS: tuple[Section, ...] = (
    ("Summary", (
        "Contoso is a fictional company. This report is a made-up example for ragstage demos.",
        "This report compares the slm, llm and hybrid modes of ragstage on the Project Lantern "
        "help desk documents for the third quarter (Q3) of 2025.",
        "The report was written by Priya Nair, the evaluation lead. It was published on 6 October 2025.",
        "Decision: hybrid mode with the auto escalation policy becomes the default for the internal help desk.",
    )),
    ("Method", (
        "The evaluation suite had 48 questions. 10 of them could not be answered from the documents.",
        "Every mode ran at temperature 0 with a context budget of 900 tokens and top-k of 4.",
        "The SLM was phi-4-mini and the LLM was gpt-oss-20b, both on Foundry Local on the host lantern-gpu-01.",
    )),
    ("Results", (
        "Retrieval hit@4 was 0.92 for every mode, because all modes share the same retriever.",
        "Fact recall was 0.58 for slm, 0.81 for llm and 0.77 for hybrid.",
        "Refusal correctness was 0.40 for slm, 0.90 for llm and 0.80 for hybrid.",
        "Median total latency was 3.1 seconds for slm, 11.4 seconds for llm and 5.2 seconds for hybrid.",
        "In hybrid mode the auto policy escalated 31% of the questions to the LLM.",
        "Emulated cost per 1,000 answers was $0.15 for slm, $1.90 for llm and $0.74 for hybrid.",
    )),
    ("Decision", (
        "Hybrid keeps 95% of the LLM's fact recall at less than half of its median latency.",
        "Hybrid costs about 39% of the LLM's emulated cost per 1,000 answers.",
        "The slm mode alone refused too rarely: it answered 6 of the 10 unanswerable questions.",
    )),
    ("Next steps", (
        "Add 20 more unanswerable questions to the suite before the Q4 evaluation.",
        "Test a context budget of 700 tokens for the SLM to lower its time to first token.",
        "The Q4 evaluation report is due on 12 January 2026.",
    )),
)

RESULTS_TABLE = (
    ("mode", "fact recall", "refusal correctness", "median latency (s)", "cost per 1,000 answers"),
    ("slm", "0.58", "0.40", "3.1", "$0.15"),
    ("llm", "0.81", "0.90", "11.4", "$1.90"),
    ("hybrid", "0.77", "0.80", "5.2", "$0.74"),
)


class RunbookPdf(FPDF):
    """FPDF calls footer() on every page with page breaks suspended, so it cannot spill over."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, f"{RUNBOOK_TITLE} - page {self.page_no()} of {len(RUNBOOK_PAGES)}", align="C")


def _write_pdf_section(pdf: FPDF, heading: str, paragraphs: tuple[str, ...]) -> None:
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    pdf.ln(4)


def build_pdf(path: Path) -> Path:
    """A multi-page PDF with a real text layer (core Helvetica font, ASCII text)."""
    pdf = RunbookPdf(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(RUNBOOK_TITLE)
    pdf.set_author("ragstage")
    pdf.set_auto_page_break(auto=True, margin=15)
    for page_number, sections in enumerate(RUNBOOK_PAGES, start=1):
        pdf.add_page()
        if page_number == 1:
            pdf.set_font("Helvetica", "B", 20)
            pdf.multi_cell(0, 12, RUNBOOK_TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(4)
        for heading, paragraphs in sections:
            _write_pdf_section(pdf, heading, paragraphs)
    pdf.output(str(path))
    return path


def _with_fixed_zip_timestamps(data: bytes) -> bytes:
    """python-docx stamps zip entries with the current time; rewrite them with a fixed one."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIMESTAMP)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def build_docx(path: Path) -> Path:
    """A DOCX with a title, real headings, paragraphs and a results table."""
    document = docx.Document()
    properties = document.core_properties
    properties.title = REPORT_TITLE
    properties.author = "ragstage"
    properties.last_modified_by = "ragstage"
    properties.created = properties.modified = FIXED_DATE.replace(tzinfo=None)
    properties.revision = 1
    document.add_heading(REPORT_TITLE, level=0)
    for heading, paragraphs in REPORT_SECTIONS:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        if heading == "Results":
            table = document.add_table(rows=0, cols=len(RESULTS_TABLE[0]))
            for row in RESULTS_TABLE:
                for cell, value in zip(table.add_row().cells, row):
                    cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_with_fixed_zip_timestamps(buffer.getvalue()))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "knowledge", help="output folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for built in (build_pdf(args.out / PDF_NAME), build_docx(args.out / DOCX_NAME)):
        print(f"wrote {built} ({built.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
