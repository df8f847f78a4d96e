"""The chat app in a real chromium against a real `chainlit run app.py` with the embedded models."""

from __future__ import annotations

import re

import pytest
from chat_driver import (
    assistant_texts, choose, confirm_settings, expand_step, open_chat, open_settings, send, watch_answer,
)
from e2e_server import screenshot

from ragstage.ui.locale import english

pytestmark = pytest.mark.e2e


def test_starter_question_streams_a_cited_answer_whose_chip_opens_the_passage(page):
    open_chat(page)
    welcome = assistant_texts(page)[0]
    assert "SLM" in welcome and "LLM" in welcome and "documents" in welcome
    screenshot(page, "01-welcome")
    starter = english().starters[0]

    page.get_by_role("button", name=starter.label).click()
    seen = watch_answer(page)

    assert len(seen) >= 2, f"the answer did not stream: {seen}"
    chips = page.locator(".element-link")
    names = [n for n in chips.all_inner_texts() if re.match(r"\[\d+\] ", n)]
    assert names, "no citation chip"
    chips.filter(has_text=names[0]).first.click()
    panel = page.locator("#side-view-content")
    source = names[0].split("] ", 1)[1]
    panel.get_by_text(source).first.wait_for()
    assert "Source:" in panel.inner_text()
    page.wait_for_timeout(500)  # the panel slides in
    screenshot(page, "02-starter-answer-with-passage")
    assert page.outside_requests == [], f"the page reached outside the machine: {page.outside_requests}"


def test_hybrid_mode_shows_draft_and_refine_steps_and_metrics(page):
    open_chat(page)
    open_settings(page)
    choose(page, "mode", "hybrid")
    choose(page, "escalation_policy", "always")
    screenshot(page, "03-settings-hybrid")
    confirm_settings(page)

    send(page, "What does the hybrid draft-refine mode do?")
    watch_answer(page)

    for step in ("Retrieval", "Draft", "Refine", "Metrics"):
        page.get_by_text(f"Used {step}", exact=True).last.wait_for()
    expand_step(page, "Metrics")
    page.get_by_text("TTFT ms").first.wait_for()
    assert "| Draft |" not in page.content()  # rendered as a table, not raw Markdown
    table = page.locator("table").filter(has_text="Refine").last
    table.scroll_into_view_if_needed()
    screenshot(page, "04-hybrid-draft-refine-metrics")

    page.locator(".element-link").filter(has_text="LatencyChart").last.click()
    chart = page.locator("#side-view-content #latency-chart")
    chart.wait_for()
    assert chart.locator(".latency-bar").count() == 2  # one bar per model call: draft and refine
    page.wait_for_timeout(500)
    screenshot(page, "08-latency-chart")
    page.click("#theme-toggle")
    page.get_by_role("menuitem", name=re.compile("light", re.I)).click()
    page.wait_for_timeout(500)
    screenshot(page, "09-latency-chart-light-theme")


def test_uploaded_pdf_is_indexed_and_cited_in_the_same_breath(page, tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Quokka flight manual. The quokka glider cruises at exactly 73 knots "
                         "and its landing checklist has nine steps.")
    path = tmp_path / "quokka-manual.pdf"
    pdf.output(str(path))

    open_chat(page)
    page.set_input_files("#upload-button-input", str(path))
    send(page, "At what speed does the quokka glider cruise?")
    watch_answer(page)

    page.get_by_text("Indexed quokka-manual.pdf").first.wait_for()
    chip = page.locator(".element-link").filter(has_text="quokka-manual.pdf").first
    chip.click()
    page.locator("#side-view-content").get_by_text("73 knots").first.wait_for()
    page.wait_for_timeout(500)
    screenshot(page, "05-pdf-upload-cited")


def test_corrupt_upload_is_named_with_its_reason_and_the_chat_still_answers(page, tmp_path):
    broken = tmp_path / "broken-report.docx"
    broken.write_bytes(b"PK\x03\x04 this is not a real docx archive")

    open_chat(page)
    page.set_input_files("#upload-button-input", str(broken))
    send(page, "What is BM25?")
    watch_answer(page)

    page.get_by_text("Could not use broken-report.docx").first.wait_for()
    page.get_by_text("Used Metrics", exact=True).first.wait_for()  # the question was still answered
    screenshot(page, "06-corrupt-upload")


def test_stop_button_stops_the_answer_and_the_next_question_works(page):
    open_chat(page)
    send(page, "Explain in detail how ragstage measures time to first token and decode speed.")
    page.wait_for_selector("#stop-button", timeout=30_000)
    page.click("#stop-button")
    page.wait_for_selector("#stop-button", state="detached", timeout=30_000)
    page.get_by_text("Task manually stopped.").first.wait_for()
    screenshot(page, "07-stopped")

    send(page, "What is BM25?")
    watch_answer(page)
    page.get_by_text("Used Metrics", exact=True).first.wait_for()
