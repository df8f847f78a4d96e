"""Language detection per chunk, queries analysed like the passages they should meet, and a mixed
English/Chinese/Ukrainian index that answers each language (all documents written for these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragstage.knowledge import ChunkIndex, Document
from ragstage.knowledge.analyzer import query_language
from ragstage.knowledge.languages import UNKNOWN, detect_language

LONG_TEXTS = {
    "en": "The embedded server starts a small model on the laptop, warms it up with one short request, "
          "and keeps it running so that the first answer of the talk does not wait for the weights to load.",
    "zh": "嵌入式服务器会在笔记本电脑上启动一个小模型，先用一个简短的请求预热，然后让它一直运行，"
          "这样演讲中的第一个回答就不必等待权重加载。",
    "uk": "Вбудований сервер запускає малу модель на ноутбуці, прогріває її одним коротким запитом "
          "і тримає запущеною, щоб перша відповідь під час доповіді не чекала на завантаження ваг.",
    "ru": "Встроенный сервер запускает небольшую модель на ноутбуке, прогревает её одним коротким запросом "
          "и держит запущенной, чтобы первый ответ во время доклада не ждал загрузки весов.",
    "hi": "एम्बेडेड सर्वर लैपटॉप पर एक छोटा मॉडल शुरू करता है, उसे एक छोटे अनुरोध से तैयार करता है "
          "और चालू रखता है ताकि भाषण का पहला उत्तर भार लोड होने की प्रतीक्षा न करे।",
    "th": "เซิร์ฟเวอร์ในตัวจะเริ่มโมเดลขนาดเล็กบนแล็ปท็อป อุ่นเครื่องด้วยคำขอสั้น ๆ หนึ่งครั้ง "
          "และเปิดทิ้งไว้เพื่อให้คำตอบแรกของการบรรยายไม่ต้องรอโหลดน้ำหนัก",
    "ar": "يبدأ الخادم المدمج نموذجا صغيرا على الحاسوب المحمول ويسخنه بطلب قصير واحد ويبقيه قيد التشغيل "
          "حتى لا تنتظر الإجابة الأولى في المحاضرة تحميل الأوزان.",
    "de": "Der eingebettete Server startet ein kleines Modell auf dem Laptop, wärmt es mit einer kurzen Anfrage "
          "auf und lässt es laufen, damit die erste Antwort des Vortrags nicht auf das Laden der Gewichte wartet.",
}


@pytest.mark.parametrize("language", sorted(LONG_TEXTS))
def test_long_texts_are_detected(language: str):
    assert detect_language(LONG_TEXTS[language]) == language


@pytest.mark.parametrize("text, language", [
    ("东京是日本的首都", "zh"), ("Библиотеки открываются утром", "ru"), ("Бібліотеки відкриваються вранці", "uk"),
    ("हिन्दी भाषा बहुत सुंदर है", "hi"), ("Die Bibliothek öffnet am Morgen", "de"),
])
def test_short_sentences_are_detected(text: str, language: str):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["ok", "Table 3", "1960", "x86_64 GPT-4o", ""])
def test_texts_too_short_to_tell_are_unknown_rather_than_guessed(text: str):
    assert detect_language(text) == UNKNOWN


def test_a_query_is_read_in_one_of_the_indexed_languages():
    assert query_language("Яка температура кипіння води?", {"en", "uk", "zh"}) == "uk"
    assert query_language("水的沸点是多少？", {"en", "uk", "zh"}) == "zh"
    assert query_language("What is the boiling point of water?", {"en", "uk", "zh"}) == "en"
    # one language indexed (plus passages too short to tell): nothing to choose, nothing detected
    assert query_language("Яка температура кипіння води?", {"en", UNKNOWN}) == "en"


DOCS = {
    "projector.md": "# Projector\n\nBring an HDMI adapter: the venue projectors only accept HDMI cables, "
                    "and the laptop needs an adapter for its USB-C port.",
    "projector.zh.md": "# 投影仪\n\n请带上HDMI转接头：会场的投影仪只接受HDMI线缆，笔记本电脑的USB-C接口需要转接头。",
    "cooling.md": "# Cooling\n\nLaptops throttle when they overheat, so long benchmarks run slower; "
                  "keep the fan vents clear and the machine on a hard table.",
    "cooling.zh.md": "# 散热\n\n笔记本电脑过热时会降频，因此长时间的基准测试会变慢；请保持风扇通风口畅通，并把电脑放在坚硬的桌面上。",
    "cooling.uk.md": "# Охолодження\n\nНоутбуки сповільнюються, коли перегріваються, тому довгі вимірювання "
                     "працюють повільніше; тримайте вентиляційні отвори відкритими.",
}


@pytest.fixture(scope="module")
def mixed_index() -> ChunkIndex:
    index = ChunkIndex()
    index.add_many(Document(name, name, text, "md", "0" * 64) for name, text in DOCS.items())
    return index


def test_each_chunk_records_its_language(mixed_index: ChunkIndex):
    languages = {source: mixed_index.chunks_of(source)[0].language for source in mixed_index.sources}
    assert languages == {"projector.md": "en", "projector.zh.md": "zh", "cooling.md": "en",
                         "cooling.zh.md": "zh", "cooling.uk.md": "uk"}


@pytest.mark.parametrize("question, expected", [
    ("Which cable do the projectors accept?", "projector.md"),
    ("投影仪接受什么线缆？", "projector.zh.md"),
    ("Why do laptops get slower when they overheat?", "cooling.md"),
    ("笔记本电脑过热会怎样？", "cooling.zh.md"),
    ("Чому ноутбук сповільнюється під час перегрівання?", "cooling.uk.md"),
])
def test_a_mixed_index_answers_each_language_with_its_own_passage(mixed_index: ChunkIndex, question: str,
                                                                  expected: str):
    assert mixed_index.search(question, 1)[0].chunk.source == expected


def test_saved_index_keeps_chunk_languages(mixed_index: ChunkIndex, tmp_path: Path):
    mixed_index.save(tmp_path / "saved")
    loaded = ChunkIndex.load(tmp_path / "saved")
    assert [c.language for s in loaded.sources for c in loaded.chunks_of(s)] == \
        [c.language for s in mixed_index.sources for c in mixed_index.chunks_of(s)]
    assert loaded.search("投影仪接受什么线缆？", 1)[0].chunk.source == "projector.zh.md"


def test_the_index_counts_chunks_per_language_as_documents_come_and_go(mixed_index: ChunkIndex):
    assert mixed_index.languages == {"en": 2, "zh": 2, "uk": 1}
    index = mixed_index.fork()
    index.remove("cooling.uk.md")
    index.add(Document("projector.md", "p", DOCS["cooling.zh.md"], "md", "0" * 64))  # replaced, now Chinese
    index.compact()
    assert index.languages == {"en": 1, "zh": 3}
    assert mixed_index.languages == {"en": 2, "zh": 2, "uk": 1}  # the fork's original is untouched
