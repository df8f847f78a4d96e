"""Bad arguments to `ragstage bench` / `ragstage eval` stop with one line and exit code 2,
before any model server is started."""

import pytest

from ragstage.cli import build_parser, main


@pytest.fixture(autouse=True)
def _no_workshop_env(monkeypatch):
    for name in ("BENCH_MODELS", "BENCH_ROUNDS", "BENCH_PROMPT", "BENCH_STREAM", "COMPARE_PROMPT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("argv", "message"), [
    (["bench", "--rounds", "0"], "--rounds / BENCH_ROUNDS must be at least 1"),
    (["bench", "--limit", "0"], "--limit must be at least 1"),
    (["bench", "--targets", "llm:"], "names no model id"),
    (["bench", "--knowledge", "/no/such/folder"], "knowledge folder not found: /no/such/folder"),
    (["bench", "--prompts", "/no/such/prompts.jsonl"], "/no/such/prompts.jsonl: cannot read"),
    (["eval", "--modes", "slm,compare"], "unknown mode compare; choose from slm, llm, hybrid"),
    (["eval", "--suite", "/no/such/suite.jsonl"], "/no/such/suite.jsonl: cannot read"),
    (["eval", "--limit", "-1"], "--limit must be at least 1"),
    (["eval", "--lang", "zh"], "--lang needs --suite FOLDER holding one suite per language"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bench_rounds_from_the_workshop_variable_must_be_a_number(monkeypatch, capsys):
    monkeypatch.setenv("BENCH_ROUNDS", "three")
    assert main(["bench"]) == 2
    assert "BENCH_ROUNDS='three' is not a whole number" in capsys.readouterr().err


def test_help_documents_the_workshop_variables():
    bench = build_parser()._subparsers._group_actions[0].choices["bench"]
    text = bench.format_help()
    for name in ("BENCH_MODELS", "BENCH_ROUNDS", "BENCH_PROMPT", "BENCH_STREAM", "COMPARE_PROMPT"):
        assert name in text
