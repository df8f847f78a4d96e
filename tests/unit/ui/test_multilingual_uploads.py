"""Chinese, Hindi and Ukrainian PDF and DOCX files attached mid-chat are searchable in that same turn.

The files are real: DOCX from python-docx, PDFs from fpdf2 with fonts that have the glyphs
(Debian's fonts-wqy-microhei for Chinese, fonts-lohit-deva for Devanagari, DejaVu for Cyrillic;
`python3 scripts/setup.py --test` installs them), read back by the same loaders as any upload.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from ui_fakes import simple_answer

from ragstage.ui import chat

FONTS = {
    "cjk": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    "deva": Path("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf"),
    "cyrillic": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}
ZH_TEXT = "嵌入式服务器会在笔记本电脑上启动一个小模型，先用一个简短的请求预热，这样第一个回答不必等待权重加载。"
HI_TEXT = "एम्बेडेड सर्वर लैपटॉप पर एक छोटा मॉडल शुरू करता है और उसे चालू रखता है ताकि पहला उत्तर प्रतीक्षा न करे।"
UK_TEXT = "Вбудований сервер запускає малу модель на ноутбуці і прогріває її коротким запитом перед доповіддю."


def pdf_with_font(font: str, text: str) -> bytes:
    if not FONTS[font].is_file():
        pytest.skip(f"font {FONTS[font]} missing: run python3 scripts/setup.py --test")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font(font, fname=str(FONTS[font]))
    pdf.add_page()
    pdf.set_font(font, size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def docx_with(heading: str, text: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def attachment(folder: Path, name: str, data: bytes) -> SimpleNamespace:
    path = folder / name
    path.write_bytes(data)
    return SimpleNamespace(name=name, path=str(path), mime="", type="file")


@pytest.mark.parametrize("name, make, question, language", [
    ("模型预热.pdf", lambda: pdf_with_font("cjk", ZH_TEXT), "服务器为什么要预热模型？", "zh"),
    ("模型预热.docx", lambda: docx_with("模型预热", ZH_TEXT), "服务器为什么要预热模型？", "zh"),
    ("warmup.hi.pdf", lambda: pdf_with_font("deva", HI_TEXT), "सर्वर मॉडल को चालू क्यों रखता है?", "hi"),
    ("warmup.hi.docx", lambda: docx_with("मॉडल", HI_TEXT), "सर्वर मॉडल को चालू क्यों रखता है?", "hi"),
    ("прогрів.pdf", lambda: pdf_with_font("cyrillic", UK_TEXT), "Навіщо сервер прогріває модель?", "uk"),
])
async def test_an_upload_in_another_language_is_searchable_in_the_same_turn(page, runtime, tmp_path, name, make,
                                                                            question, language):
    runtime.play(*simple_answer(question, (), cited=()))
    await chat.handle_message(SimpleNamespace(content=question, elements=[attachment(tmp_path, name, make())]))

    ack = page.messages()[0]["output"]
    assert "Indexed" in ack and "Could not use" not in ack
    hits = runtime.calls[-1].index.search(question, 3)  # the index this very answer was given
    assert hits and hits[0].chunk.source == f"upload:{name}" and hits[0].chunk.language == language


def test_citation_panel_names_the_passage_language():
    from dataclasses import replace

    from ui_fakes import chunk

    from ragstage.ui.citations import SourceRef, passage_markdown

    shown = passage_markdown(SourceRef(1, replace(chunk("upload:模型预热.pdf", ZH_TEXT), language="zh"), 2.5))
    assert "**Language:** zh" in shown and ZH_TEXT[:10] in shown
    assert "Language" not in passage_markdown(SourceRef(1, chunk("notes.md", "ok"), 1.0))  # unknown: no line
