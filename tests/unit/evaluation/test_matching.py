from ragstage.evaluation.matching import content_terms, fact_present, normalise, strip_citations, word_count


def test_normalise_ignores_case_punctuation_and_thousands_separators():
    assert normalise("The Context is 4,096 Tokens!") == "the context is 4096 tokens"
    assert normalise("4096-token window") == "4096 token window"


def test_normalise_splits_numbers_from_units_so_spacing_does_not_matter():
    assert normalise("40ms") == normalise("40 ms")


def test_curly_and_straight_apostrophes_normalise_alike():
    assert normalise("Ollama\u2019s port") == normalise("Ollama's port")


def test_fact_matches_whole_words_case_insensitively():
    assert fact_present("Snowball", "It uses the snowball stemmer [2].")
    assert not fact_present("ball", "It uses the snowball stemmer.")


def test_fact_alternatives_separated_by_pipe_accept_either():
    assert fact_present("11434|eleven thousand", "Ollama listens on port 11,434?")
    assert fact_present("11434|eleven thousand", "Ollama listens on port 11434.")
    assert fact_present("4096|4k", "a 4K window")


def test_decimal_fact_does_not_match_other_number():
    assert fact_present("1.5", "k1 defaults to 1.5")
    assert not fact_present("1.5", "k1 defaults to 15")
    assert not fact_present("15", "k1 defaults to 1.5")


def test_empty_fact_alternative_never_matches():
    assert not fact_present("|", "anything")
    assert not fact_present("snowball", "")


def test_citation_marks_are_not_words():
    assert strip_citations("Yes [1][2, 3].").split() == ["Yes", "."]
    assert word_count("Port 11434 [1].") == 2
    assert word_count("It doesn't use 4,096 or 1.5 [2]") == 6
    assert word_count("") == 0


def test_content_terms_drop_stopwords_and_stem():
    assert content_terms("The models are running [1]") == content_terms("model run")
