import pytest

from ragstage.evaluation.targets import parse_targets
from ragstage.settings import Settings

SETTINGS = Settings(_env_file=None, slm_model="phi-4-mini", llm_model="gpt-oss-20b")


def test_roles_and_hybrid_are_targets():
    targets = parse_targets("slm, llm,hybrid", SETTINGS)
    assert [(t.name, t.mode, t.roles) for t in targets] == [
        ("slm", "slm", ("slm",)), ("llm", "llm", ("llm",)), ("hybrid", "hybrid", ("slm", "llm"))]


def test_role_and_model_id_keeps_colons_inside_the_id():
    (target,) = parse_targets("slm:phi-4-mini-instruct-generic-cpu:1", SETTINGS)
    assert (target.mode, target.model_override) == ("slm", "phi-4-mini-instruct-generic-cpu:1")
    custom = target.settings_for(SETTINGS)
    assert custom.slm_model == "phi-4-mini-instruct-generic-cpu:1" and custom.backend == "remote"
    assert custom.llm_model == SETTINGS.llm_model


def test_workshop_model_names_map_to_their_roles():
    targets = parse_targets("phi-4-mini,gpt-oss-20b", SETTINGS)
    assert [(t.name, t.model_override) for t in targets] == [("phi-4-mini", None), ("gpt-oss-20b", None)]
    assert [t.mode for t in targets] == ["slm", "llm"]


def test_an_unknown_bare_model_name_runs_on_the_slm_endpoint():
    (target,) = parse_targets("qwen2.5-7b", SETTINGS)
    assert (target.name, target.mode, target.model_override) == ("slm:qwen2.5-7b", "slm", "qwen2.5-7b")


def test_duplicates_are_dropped_and_empty_lists_rejected():
    assert len(parse_targets("slm,slm", SETTINGS)) == 1
    with pytest.raises(ValueError, match="slm, llm, hybrid"):
        parse_targets(" , ", SETTINGS)
    with pytest.raises(ValueError, match="no model id"):
        parse_targets("llm:", SETTINGS)
