import json

import pytest

from ragstage.evaluation.suites import SuiteError, load_bench_prompts, load_eval_suite


def write(tmp_path, lines):
    path = tmp_path / "suite.jsonl"
    path.write_text("\n".join(json.dumps(line) if not isinstance(line, str) else line for line in lines))
    return path


def test_shipped_suite_loads_with_answerable_and_unanswerable_questions():
    cases = load_eval_suite()
    assert len(cases) >= 40
    assert sum(not case.answerable for case in cases) >= 8
    assert all(case.facts and case.source for case in cases if case.answerable)


def test_shipped_bench_prompts_load():
    prompts = load_bench_prompts()
    assert prompts and all(p.question for p in prompts)


def test_a_users_suite_file_is_read_with_blank_lines_ignored(tmp_path):
    path = write(tmp_path, [
        {"id": "a", "question": "Q?", "answerable": True, "facts": ["x|y"], "source": "doc.md"},
        "",
        {"id": "b", "question": "R?", "answerable": False, "facts": [], "source": None},
    ])
    cases = load_eval_suite(path)
    assert [(c.case_id, c.answerable, c.facts, c.source) for c in cases] == [
        ("a", True, ("x|y",), "doc.md"), ("b", False, (), None)]


@pytest.mark.parametrize(("line", "reason"), [
    ("{not json", ":1: not valid JSON"),
    ({"id": "a", "question": "Q?", "facts": ["x"]}, "'answerable' must be true or false"),
    ({"id": "a", "question": "Q?", "answerable": True, "facts": []}, "needs at least one fact"),
    ({"id": "a", "question": "", "answerable": False}, "'question' must be a non-empty string"),
    ({"id": "a", "question": "Q?", "answerable": True, "facts": [3]}, "'facts' must be a list"),
    ([1, 2], "expected a JSON object"),
])
def test_a_broken_line_is_reported_with_its_line_number(tmp_path, line, reason):
    path = write(tmp_path, [line])
    with pytest.raises(SuiteError, match=reason) as err:
        load_eval_suite(path)
    assert str(path) in str(err.value)


def test_duplicate_ids_and_empty_or_missing_files_are_rejected(tmp_path):
    case = {"id": "a", "question": "Q?", "answerable": False}
    with pytest.raises(SuiteError, match="more than once"):
        load_eval_suite(write(tmp_path, [case, case]))
    with pytest.raises(SuiteError, match="no questions"):
        load_eval_suite(write(tmp_path, [""]))
    with pytest.raises(SuiteError, match="cannot read"):
        load_bench_prompts(tmp_path / "missing.jsonl")
