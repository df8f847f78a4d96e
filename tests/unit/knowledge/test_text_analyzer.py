"""The analyzer: Unicode words that keep their marks, bigrams for scripts written without spaces,
and each language's stopwords and stems (English exactly as before other languages came)."""

import re

import pytest
import Stemmer

from ragstage.knowledge import analyze
from ragstage.knowledge.analyzer import STOPWORDS, analyze_passage, tokens


def test_lowercases_stems_and_drops_stopwords():
    assert analyze("The Models are RUNNING on the laptops") == ["model", "run", "laptop"]


def test_inflections_meet_at_one_stem():
    assert analyze("running runs") == ["run", "run"]
    assert analyze("connection") == analyze("connections") == analyze("CONNECTIONS")


def test_unicode_words_are_split_and_kept():
    terms = analyze("Café naïve résumé — 東京 مرحبا 👋 x86_64 GPT-4o", "en")
    assert "café" in terms and "東京" in terms and "مرحب" in terms  # the Arabic word gets the Arabic stemmer
    assert "x86_64" in terms and "gpt" in terms and "4o" in terms
    assert "👋" not in terms and "—" not in terms


def test_curly_apostrophes_behave_like_straight_ones():
    assert analyze("don’t stop") == analyze("don't stop") == ["stop"]
    assert analyze("п’ять", "uk") == analyze("пʼять", "uk") == analyze("п'ять", "uk")  # U+2019, U+02BC, '


def test_content_words_people_ask_about_are_not_stopwords():
    for word in ("small", "large", "first", "model", "fast", "cost"):
        assert word not in STOPWORDS


def test_repeats_are_kept_for_term_frequency():
    assert analyze("token token tokens") == ["token", "token", "token"]


def test_english_ascii_text_is_analysed_as_before_other_languages():
    """The pre-multilingual analysis, spelled out: `re` words, our stopwords, English Snowball."""
    stemmer = Stemmer.Stemmer("english")
    text = "The boundary-layer equations were solved; it's shown that heating doesn't delay transition."
    words = re.findall(r"\w+(?:'\w+)*", text.casefold())
    assert analyze(text) == [stemmer.stemWord(w) for w in words if w not in STOPWORDS]


# --- segmentation per script (expected terms written out) ---------------------------------

def test_chinese_runs_become_overlapping_bigrams():
    assert analyze("东京是日本的首都。", "zh") == ["东京", "京是", "是日", "日本", "本的", "的首", "首都"]


def test_japanese_kanji_and_kana_runs_become_bigrams():
    assert analyze("東京タワーを見た", "ja") == ["東京", "京タ", "タワ", "ワー", "ーを", "を見", "見た"]


def test_korean_hangul_words_become_bigrams_and_short_words_stay_whole():
    assert analyze("나는 학교에 갑니다", "ko") == ["나는", "학교", "교에", "갑니", "니다"]
    assert analyze("물", "ko") == ["물"]


def test_hindi_words_keep_their_vowel_signs_then_are_stemmed():
    assert tokens("हिन्दी भाषा बहुत सुंदर है") == ["हिन्दी", "भाषा", "बहुत", "सुंदर", "है"]
    assert re.findall(r"\w+", "हिन्दी") != ["हिन्दी"]  # what Python's re would have made of it
    assert analyze("हिन्दी भाषा बहुत सुंदर है", "hi") == ["हिन्द", "भाष", "सुंदर"]


def test_thai_becomes_grapheme_cluster_bigrams_so_a_word_inside_a_phrase_is_found():
    """The collapse to catch: Thai has no spaces, so whole phrases would be single terms."""
    phrase = analyze("ผมชอบกินข้าวผัด", "th")
    assert phrase == ["ผม", "มช", "ชอ", "อบ", "บกิ", "กิน", "นข้", "ข้า", "าว", "วผั", "ผัด"]
    word = analyze("ข้าวผัด", "th")
    assert word == ["ข้า", "าว", "วผั", "ผัด"] and set(word) <= set(phrase)
    assert all(not term[0] in "\u0e34\u0e48\u0e31" for term in phrase)  # never split off a vowel or tone mark


def test_arabic_words_are_stemmed_with_or_without_vowel_marks():
    assert analyze("الْمَكْتَبَةُ الكبيرة", "ar") == ["مكتب", "كبير"]
    assert analyze("المكتبة", "ar") == ["مكتب"]


def test_cyrillic_russian_and_ukrainian_words_meet_their_inflections():
    assert analyze("Библиотеки открываются утром", "ru") == ["библиотек", "открыва", "утр"]
    assert analyze("Бібліотеки відкриваються вранці", "uk") == ["бібліотека", "відкриватися", "вранці"]
    assert analyze("бібліотекою", "uk") == analyze("бібліотеці", "uk") == ["бібліотека"]


def test_turkish_dotted_capital_i_matches_a_lowercase_i():
    assert analyze("İstanbul", "tr") == analyze("istanbul", "tr")


def test_words_in_another_script_are_analysed_by_that_scripts_language():
    """An English term inside a Chinese or Russian passage is stemmed the English way, as the query is."""
    assert analyze("models的功耗", "zh") == ["model", "的功", "功耗"]
    assert analyze("Эти models работают", "ru") == ["model", "работа"]


@pytest.mark.parametrize("text, language", [
    ("Библиотеки открываются утром, а закрываются поздно вечером.", "ru"),
    ("东京是日本的首都，也是世界上人口最多的城市之一。", "zh"),
    ("हिन्दी भारत की सबसे अधिक बोली जाने वाली भाषा है।", "hi"),
])
def test_a_passage_is_analysed_in_its_detected_language(text: str, language: str):
    analysed = analyze_passage(text)
    assert analysed.language == language and analysed.terms == analyze(text, language)
