"""Gold suites (`ragstage eval --suite DIR`): loading with clear errors, sampling, the knowledge
folder built from the passages, and the "contains a gold answer" check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstage.evaluation.gold_suite import (
    build_knowledge_folder,
    contains_gold,
    load_gold_suite,
    parse_languages,
    suite_languages,
)
from ragstage.evaluation.suites import SuiteError, sample_cases

PASSAGES = [
    {"id": "Super_Bowl_50_p6", "title": "Super Bowl 50", "text": "The finalists were announced on October 16, 2012."},
    {"id": "Warsaw_p7", "title": "Warsaw", "text": "Warsaw has 1.7 million people."},
]
QUESTIONS = [
    {"id": "q1", "question": "When were the finalists announced?", "answers": ["October 16, 2012"],
     "passage_id": "Super_Bowl_50_p6"},
    {"id": "q2", "question": "How many people live in Warsaw?", "answers": ["1.7 million"], "passage_id": "Warsaw_p7"},
]


def write_suite(folder: Path, passages=PASSAGES, questions=QUESTIONS, suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in ((f"passages{suffix}.jsonl", passages), (f"qa{suffix}.jsonl", questions)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_a_suite_folder_loads_passages_and_questions_with_their_gold(tmp_path: Path):
    suite = load_gold_suite(write_suite(tmp_path / "suite"))
    assert suite.lang == "en" and len(suite.content_sha256) == 64
    assert [p.source for p in suite.passages] == ["Super_Bowl_50_p6.txt", "Warsaw_p7.txt"]
    assert suite.questions[0].answers == ("October 16, 2012",) and suite.questions[0].source == "Super_Bowl_50_p6.txt"


def test_a_per_language_folder_loads_one_language(tmp_path: Path):
    folder = write_suite(tmp_path / "xquad", suffix=".de")
    assert load_gold_suite(folder, lang="de").lang == "de"
    with pytest.raises(SuiteError, match=r"one suite per language \(de\)"):
        load_gold_suite(folder)


@pytest.mark.parametrize(("passages", "questions", "message"), [
    (PASSAGES, [{**QUESTIONS[0], "passage_id": "Nowhere_p1"}], "'Nowhere_p1' is not in the passages file"),
    (PASSAGES, [{**QUESTIONS[0], "answers": []}], "'answers' must be a non-empty list"),
    ([{**PASSAGES[0], "id": "../escape"}], QUESTIONS[:1], "cannot be a file name"),
    ([PASSAGES[0], PASSAGES[0]], QUESTIONS[:1], "appears more than once"),
])
def test_a_broken_suite_is_refused_with_file_and_line(tmp_path: Path, passages, questions, message):
    with pytest.raises(SuiteError, match=message) as err:
        load_gold_suite(write_suite(tmp_path / "bad", passages, questions))
    assert ".jsonl" in str(err.value)


def test_sampling_is_reproducible_keeps_file_order_and_depends_on_the_seed():
    cases = list(range(100))
    first = sample_cases(cases, 10, seed=7)
    assert first == sample_cases(cases, 10, seed=7) == sorted(first) and len(set(first)) == 10
    assert first != sample_cases(cases, 10, seed=8)
    assert sample_cases(cases, None, seed=7) == cases == sample_cases(cases, 500, seed=7)


def test_the_knowledge_folder_holds_one_titled_file_per_passage_and_is_built_once(tmp_path: Path):
    suite = load_gold_suite(write_suite(tmp_path / "suite"))
    folder = build_knowledge_folder(suite, tmp_path / "cache")
    assert (folder / "Warsaw_p7.txt").read_text(encoding="utf-8") == "Warsaw\n\nWarsaw has 1.7 million people.\n"
    (folder / "Warsaw_p7.txt").write_text("changed", encoding="utf-8")
    assert build_knowledge_folder(suite, tmp_path / "cache") == folder  # reused, not rewritten
    assert (folder / "Warsaw_p7.txt").read_text(encoding="utf-8") == "changed"
    assert not list(folder.parent.glob("*.partial"))


@pytest.mark.parametrize(("answer", "gold", "expected"), [
    ("They were announced on October 16, 2012 [1].", ["October 16, 2012"], True),
    ("ＯＣＴＯＢＥＲ 16 2012", ["October 16, 2012"], True),  # NFKC, casefold, punctuation
    ("The Denver Broncos won.", ["the Broncos"], True),  # English articles do not count
    ("It was hosted in 2010.", ["10"], False),  # whole words only
    ("Warsaw has 1.7 million people.", ["1.7 million"], True),
    ("Warsaw has 17 million people.", ["1.7 million"], False),
    ("The sources do not say [1].", ["1"], False),  # a citation mark is not an answer
])
def test_contains_gold_normalises_both_sides_the_same_way(answer, gold, expected):
    assert contains_gold(answer, gold) is expected


def test_spaceless_scripts_compare_without_spaces():
    assert contains_gold("答案是 北京 。", ["北京"], lang="zh")
    assert not contains_gold("答案是上海。", ["北京"], lang="zh")
    assert contains_gold("答案是北京[1]。", ["北 京"], lang="zh")  # spaces in the gold do not count either
    assert contains_gold("คำตอบคือ กรุงเทพ มหานคร", ["กรุงเทพมหานคร"], lang="th")
    assert not contains_gold("คำตอบคือเชียงใหม่", ["กรุงเทพมหานคร"], lang="th")
    assert contains_gold("ＮＦＬ的第５０届", ["nfl 的第 50 届"], lang="zh")  # NFKC and case too


def test_spaced_languages_still_need_whole_words():
    assert not contains_gold("Он родился в 1900-х годах.", ["1900 году"], lang="ru")
    assert contains_gold("Ответ: «Денвер Бронкос» [2].", ["Денвер Бронкос"], lang="ru")


def test_the_languages_of_a_per_language_folder_put_english_first(tmp_path: Path):
    folder = tmp_path / "xquad"
    for lang in ("zh", "de", "en"):
        write_suite(folder, suffix=f".{lang}")
    (folder / "passages.ru.jsonl").write_text("", encoding="utf-8")  # no qa.ru.jsonl: not a suite
    assert suite_languages(folder) == ("en", "de", "zh")
    assert suite_languages(write_suite(tmp_path / "single")) == ()


@pytest.mark.parametrize(("value", "expected"), [
    ("zh", ["zh"]), ("ZH", ["zh"]), ("zh,en", ["en", "zh"]), (" de , zh ", ["de", "zh"]), ("all", ["en", "de", "zh"]),
])
def test_lang_takes_a_code_a_list_or_all(value, expected):
    assert parse_languages(value, ("en", "de", "zh")) == expected


@pytest.mark.parametrize(("value", "available", "message"), [
    ("xx", ("en", "zh"), "no suite for language xx; this folder has en, zh (or all)"),
    (",", ("en", "zh"), "--lang is empty"),
    ("zh", (), "--lang needs a folder with one suite per language"),
])
def test_lang_refuses_what_the_folder_does_not_hold(value, available, message):
    with pytest.raises(SuiteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_languages(value, available)


def test_vowel_signs_are_part_of_the_word_not_punctuation():
    assert contains_gold("राजधानी नई दिल्ली है।", ["नई दिल्ली"], lang="hi")
    assert not contains_gold("यह किम है।", ["काम"], lang="hi")  # both are "क म" with the signs dropped
