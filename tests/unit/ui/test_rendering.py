"""What the page is given to render: escaped text, readable tables, an offline template."""

from __future__ import annotations

from dataclasses import replace

from ui_fakes import chunk, result, stage_metrics

from ragstage.knowledge import Hit
from ragstage.models import ModelEndpoint
from ragstage.settings import Settings
from ragstage.ui import settings_panel, steps
from ragstage.ui.citations import SourceRef, passage_markdown, short_source_name
from ragstage.ui.escaping import escape_document_text, escape_model_text
from ragstage.ui.offline import install_offline_template, strip_outside_links
from ragstage.ui.locale import parse_locale
from ragstage.ui.welcome import starters


def test_document_html_and_images_are_shown_as_text_not_rendered():
    shown = escape_document_text('<img src=x onerror="alert(1)"> ![t](http://evil/x.png) [l](http://evil) **b**')
    assert "<img" not in shown and "&lt;img" in shown
    assert "![" not in shown and "](http" not in shown.replace("\\]", "")
    assert "\\*\\*b\\*\\*" in shown


def test_model_text_keeps_markdown_and_citation_markers_but_no_html_or_images():
    text = "**Yes** [1]. <b>bold</b> ![x](http://evil/x.png)"
    shown = escape_model_text(text)
    assert shown.startswith("**Yes** [1].") and "<b>" not in shown and "!\\[" not in shown and "\\!" in shown
    assert "".join(escape_model_text(c) for c in text) == shown  # streaming token by token is the same


def test_passage_panel_names_source_section_and_page():
    ref = SourceRef(2, chunk("manuals/setup.pdf", "Step <one>.", heading="Install > Linux", page=7), 3.14159)
    shown = passage_markdown(ref)
    assert "manuals/setup.pdf" in shown and "Install &gt; Linux" in shown and "**Page:** 7" in shown
    assert "3.14" in shown and "Step &lt;one&gt;." in shown
    assert ref.element_name == "[2] setup.pdf"


def test_citation_names_survive_odd_file_names():
    assert short_source_name("upload:../../etc/pass*wd[1].md") == "pass_wd_1_.md"
    assert len(short_source_name("upload:" + "a" * 200 + ".pdf")) <= 48


def test_metrics_table_has_a_row_per_stage_and_a_total():
    draft = stage_metrics("draft", "slm", ttft_ms=250, total_ms=1250, completion=21)
    refine = stage_metrics("refine", "llm", ttft_ms=900, total_ms=2900, completion=41)
    hits = (Hit(1, 2.5, chunk("a.md", "text")),)
    table = steps.metrics_markdown(result("q", "t", hits, (draft, refine)).metrics)
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows[2].startswith("| Retrieval | BM25 |")
    assert rows[3].startswith("| Draft | Qwen2.5-Coder-0.5B-Instruct | 250 | 1,000 | 1,250 | 300 / 21 (reported) | 20.0 |")
    assert rows[4].startswith("| Refine | Qwen2.5-Coder-1.5B-Instruct | 900 | 2,000 | 2,900 | 300 / 41 (reported) | 20.0 |")
    assert rows[5].startswith("| **Total** | | **250** | 3,000 | **4,152** | 600 / 62 (reported)")


def test_the_metrics_say_which_engine_answered():
    onnx = ModelEndpoint("slm", "smollm2", "http://127.0.0.1:9/v1", "embedded", "SmolLM2-135M-Instruct",
                         "embedded; RAGSTAGE_BACKEND=embedded", engine="onnxruntime")
    stage = replace(stage_metrics("answer", "slm", ttft_ms=250, total_ms=1250), model_label=onnx.label(), engine="onnxruntime")
    table = steps.metrics_markdown(result("q", "t", (), (stage,)).metrics)
    assert "| Answer | SmolLM2-135M-Instruct · onnxruntime | 250 |" in table
    assert stage.to_json()["engine"] == "onnxruntime"


def test_translated_step_names_never_reach_an_avatar_url():
    """Chainlit builds a step's avatar URL from its name and refuses anything outside
    [A-Za-z0-9_ .-]; with `default_avatar_file_url` set, it never builds one."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[3] / ".chainlit" / "config.toml").read_text())
    avatar = config["UI"]["default_avatar_file_url"]
    assert avatar.startswith("/public/") and (Path(__file__).resolve().parents[3] / avatar.lstrip("/")).is_file()


def test_settings_panel_starts_from_settings_and_ignores_garbage():
    settings = Settings(_env_file=None, default_mode="hybrid", top_k=6)
    values = settings_panel.default_values(settings)
    assert values["mode"] == "hybrid" and values["top_k"] == 6
    merged = settings_panel.parse_values(values, {"mode": "compare", "top_k": "x", "unknown": 1, "temperature": 0.7})
    assert merged["mode"] == "compare" and merged["top_k"] == 6 and merged["temperature"] == 0.7 and "unknown" not in merged


def test_starters_without_a_label_or_question_are_left_out():
    locale = parse_locale("xx", {"texts": {}, "starters": [{"label": "A", "message": "Q?"}, {"label": "", "message": "x"}]})
    assert [s.message for s in starters(locale)] == ["Q?"]
    assert 1 <= len(starters()) <= 4  # the shipped English file


def test_offline_template_drops_every_outside_link_and_keeps_local_ones():
    html = """<head><link rel="preconnect" href="https://fonts.googleapis.com" />
    <link
      href="https://fonts.googleapis.com/css2?family=Inter"
      rel="stylesheet"
    />
    <link rel="stylesheet" href="//cdn.jsdelivr.net/npm/katex.min.css" />
    <link rel="stylesheet" crossorigin href="/assets/index.css">
    <link rel="stylesheet" type="text/css" href="/public/ragstage.css"></head>"""
    kept = strip_outside_links(html)
    assert "googleapis" not in kept and "jsdelivr" not in kept
    assert "/assets/index.css" in kept and "/public/ragstage.css" in kept


def test_offline_template_wraps_chainlits_template_once():
    import types

    server = types.SimpleNamespace(get_html_template=lambda root: '<link href="https://x.example/a.css">ok')
    install_offline_template(server)
    install_offline_template(server)
    assert server.get_html_template("") == "ok"
