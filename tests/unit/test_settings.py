import os
from pathlib import Path

import pytest

from ragstage.settings import Settings, settings_table_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_settings_class():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = text.index("<!-- settings-table:end -->")
    assert text[start:end].strip() == settings_table_markdown().strip(), (
        "README settings table is stale: regenerate it with `ragstage settings --markdown`"
    )


def test_every_setting_is_documented():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAGSTAGE_TOP_K", "7")
    monkeypatch.setenv("RAGSTAGE_SLM_MODEL", "my-slm")
    settings = Settings()
    assert settings.top_k == 7
    assert settings.slm_model == "my-slm"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSTAGE_TOP_K", raising=False)
    (tmp_path / ".env").write_text("RAGSTAGE_TOP_K=9\n")
    assert Settings().top_k == 9


def test_invalid_value_is_rejected_with_the_setting_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAGSTAGE_TOP_K", "zero")
    with pytest.raises(Exception, match="top_k"):
        Settings()


def test_hosts_and_origins_are_comma_separated_lists(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAGSTAGE_ALLOWED_HOSTS", "team.example, *.corp.example")
    monkeypatch.setenv("RAGSTAGE_ALLOWED_ORIGINS", "https://team.example,http://127.0.0.1:9000")
    settings = Settings(_env_file=None)
    assert settings.allowed_hosts == ("team.example", "*.corp.example")
    assert settings.allowed_origins == ("https://team.example", "http://127.0.0.1:9000")
    assert Settings(_env_file=None, allowed_origins=()).allowed_origins == ()


@pytest.mark.parametrize("origin", ["*", "team.example", "https://team.example/app", "ftp://team.example"])
def test_an_origin_list_refuses_wildcards_and_things_that_are_not_origins(monkeypatch: pytest.MonkeyPatch, origin):
    monkeypatch.setenv("RAGSTAGE_ALLOWED_ORIGINS", origin)
    with pytest.raises(Exception, match="allowed_origins"):
        Settings(_env_file=None)


@pytest.mark.parametrize("host", ["team*.example", "*example.org", "a.*.example"])
def test_a_host_wildcard_is_only_a_leading_subdomain_star(monkeypatch: pytest.MonkeyPatch, host):
    monkeypatch.setenv("RAGSTAGE_ALLOWED_HOSTS", host)
    with pytest.raises(Exception, match="allowed_hosts"):
        Settings(_env_file=None)
