"""The analyzer lowercases, splits Unicode words, drops stopwords and stems (Snowball English)."""

from ragstage.knowledge import analyze
from ragstage.knowledge.analyzer import STOPWORDS


def test_lowercases_stems_and_drops_stopwords():
    assert analyze("The Models are RUNNING on the laptops") == ["model", "run", "laptop"]


def test_inflections_meet_at_one_stem():
    assert analyze("running runs") == ["run", "run"]
    assert analyze("connection") == analyze("connections") == analyze("CONNECTIONS")


def test_unicode_words_are_split_and_kept():
    terms = analyze("Café naïve résumé — 東京 مرحبا 👋 x86_64 GPT-4o")
    assert "café" in terms and "東京" in terms and "مرحبا" in terms
    assert "x86_64" in terms and "gpt" in terms and "4o" in terms
    assert "👋" not in terms and "—" not in terms


def test_curly_apostrophes_behave_like_straight_ones():
    assert analyze("don’t stop") == analyze("don't stop") == ["stop"]


def test_content_words_people_ask_about_are_not_stopwords():
    for word in ("small", "large", "first", "model", "fast", "cost"):
        assert word not in STOPWORDS


def test_repeats_are_kept_for_term_frequency():
    assert analyze("token token tokens") == ["token", "token", "token"]
