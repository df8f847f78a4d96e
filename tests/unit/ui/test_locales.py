"""The app's own words in the reader's language: complete locale files, the language chosen from
the browser as Chainlit chooses its own, the stage's override, and a chat that speaks it."""

from __future__ import annotations

import json
import string
from pathlib import Path
from types import SimpleNamespace

import chainlit.config
import pytest
from ui_fakes import serving

from ragstage.settings import Settings
from ragstage.ui import chat
from ragstage.ui.locale import (
    choose_locale,
    english,
    install_chainlit_translations,
    load_locale,
    locale_codes,
    match_locale,
)

LOCALES = Path(__file__).resolve().parents[3] / "src" / "ragstage" / "ui" / "locales"
CHAINLIT_TRANSLATIONS = Path(chainlit.config.TRANSLATIONS_DIR)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def flat_keys(tree: dict, prefix: str = "") -> dict[str, str]:
    keys: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{prefix}{key}.")
        else:
            keys[f"{prefix}{key}"] = value
    return keys


def test_at_least_english_ukrainian_and_chinese_ship_each_as_one_file():
    assert {"en", "uk", "zh-CN"} <= set(locale_codes()) and locale_codes()[0] == "en"
    assert sorted(p.stem for p in LOCALES.glob("*.json")) == sorted(locale_codes())


@pytest.mark.parametrize("code", locale_codes())
def test_every_locale_has_every_english_key_with_the_same_placeholders(code):
    document = json.loads((LOCALES / f"{code}.json").read_text(encoding="utf-8"))
    english_texts = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))["texts"]
    texts = document["texts"]
    assert set(texts) == set(english_texts), f"{code}.json: missing {set(english_texts) - set(texts)}"
    for key, text in texts.items():
        assert text.strip(), f"{code}.json: {key} is empty"
        assert placeholders(text) == placeholders(english_texts[key]), f"{code}.json: {key} placeholders differ"
    assert document["name"] and len(document["starters"]) == 4
    assert all(0 < len(s["label"]) <= 24 and s["message"].rstrip().endswith(("?", "？")) for s in document["starters"])


@pytest.mark.parametrize("code", locale_codes())
def test_chainlit_has_its_own_strings_for_every_locale(code):
    """Chainlit ships en-US and zh-CN (not uk): a locale file carries Chainlit's strings for the
    languages Chainlit lacks, with every key of Chainlit's English file and its {{placeholders}}."""
    shipped = tuple(p.stem for p in CHAINLIT_TRANSLATIONS.glob("*.json"))
    own = load_locale(code).chainlit
    if own is None:
        assert match_locale(code, shipped) is not None, f"Chainlit has no {code} translation: add a chainlit section"
        return
    truth = flat_keys(json.loads((CHAINLIT_TRANSLATIONS / "en-US.json").read_text(encoding="utf-8")))
    mine = flat_keys(dict(own))
    assert set(mine) == set(truth)
    for key, text in mine.items():
        assert text.strip() and text.count("{{") == truth[key].count("{{"), key


@pytest.mark.parametrize(("browser", "expected"), [
    ("uk-UA", "uk"), ("uk", "uk"), ("UK-ua", "uk"),  # the primary language, any case
    ("zh-CN", "zh-CN"), ("zh", "zh-CN"), ("zh-TW", "zh-CN"),  # a regional variant of the language
    ("en-US", "en"), ("fr-FR", "en"), ("", "en"), (None, "en"),  # English when nothing matches
])
def test_the_language_follows_the_browser_as_chainlit_matches_its_translations(browser, expected):
    assert choose_locale(browser).code == expected


def test_the_stage_setting_overrides_every_browser():
    assert choose_locale("uk-UA", override="zh-CN").code == "zh-CN"
    assert choose_locale("en-US", override="uk").code == "uk"
    assert choose_locale("uk-UA", override="xx").code == "uk"  # an unknown override: the browser decides
    with pytest.raises(ValueError):
        Settings(_env_file=None, ui_language="uk; rm -rf /")


def test_a_missing_key_falls_back_to_english_and_placeholders_are_filled():
    locale = load_locale("uk")
    stripped = type(locale)("uk", locale.name, {}, ())
    assert stripped.text("answer.sources") == english().text("answer.sources") == "Sources"
    assert load_locale("uk").text("step.tokens_in_seconds", tokens=12, seconds="1.5") == "токенів: 12 за 1.5 с"


def test_chainlit_finds_the_ukrainian_strings_and_takes_the_override(monkeypatch, tmp_path):
    monkeypatch.setattr(chainlit.config, "config_translation_dir", str(tmp_path))
    monkeypatch.setattr(chainlit.config.config.ui, "language", None)
    written = install_chainlit_translations(chainlit.config, override="")
    assert [p.name for p in written] == ["uk.json"]
    translation = chainlit.config.config.load_translation("uk-UA")  # as Chainlit asks for a uk-UA browser
    assert translation["chat"]["input"]["placeholder"] == "Напишіть повідомлення..."
    assert chainlit.config.config.ui.language is None
    assert install_chainlit_translations(chainlit.config, override="zh-CN") == []  # unchanged files are kept
    assert chainlit.config.config.ui.language == "zh-CN"


@pytest.fixture
def ukrainian_page(page):
    page.session.language = "uk-UA"  # what Chainlit reads from the browser's Accept-Language
    return page


async def test_a_ukrainian_browser_gets_the_welcome_panel_and_starters_in_ukrainian(ukrainian_page, runtime):
    await chat.start_chat()
    welcome = ukrainian_page.messages()[-1]["output"]
    assert welcome.startswith("### ragstage готовий") and "**База знань:** документів: 2" in welcome
    starters = [data["label"] for kind, data in ukrainian_page.events if kind == "action"]
    assert starters == [s.label for s in load_locale("uk").starters]
    panel = [data for kind, data in ukrainian_page.events if kind == "chat_settings"][-1]
    assert [widget["label"] for widget in panel][:2] == ["Режим", "Політика ескалації в гібридному режимі"]
    assert [widget["id"] for widget in panel][:2] == ["mode", "escalation_policy"]  # values never translated


async def test_not_covered_and_step_names_are_in_the_readers_language(ukrainian_page, runtime):
    from ragstage.answer import NOT_COVERED, Done, Retrieved
    from ui_fakes import result

    await chat.start_chat()
    runtime.play(Retrieved((), 1.0), Done(result("Що?", NOT_COVERED, (), (), answered=False)))
    await chat.handle_message(SimpleNamespace(content="Що таке квазар?", elements=[]))
    assert ukrainian_page.messages()[-1]["output"] == load_locale("uk").text("answer.not_covered")
    assert ukrainian_page.steps_named() == ["Пошук"]


async def test_the_override_wins_over_the_browser_for_the_whole_chat(ukrainian_page, tmp_path, shared_index):
    from ui_fakes import knowledge_of

    settings = Settings(_env_file=None, knowledge_dir=tmp_path, cache_dir=tmp_path / "cache", ui_language="zh-CN")
    with serving(settings, knowledge_of(shared_index)):
        await chat.start_chat()
    assert ukrainian_page.messages()[-1]["output"].startswith("### ragstage 已就绪")


async def test_upload_acknowledgements_are_in_the_readers_language(ukrainian_page, runtime, tmp_path):
    note, empty = tmp_path / "нотатка.txt", tmp_path / "empty.txt"
    note.write_text("Пором до острова відходить щогодини з восьмої ранку.", encoding="utf-8")
    empty.write_bytes(b"")
    files = [SimpleNamespace(name=p.name, path=str(p), mime="text/plain", type="file") for p in (note, empty)]
    await chat.start_chat()
    await chat.handle_message(SimpleNamespace(content="", elements=files))
    shown = ukrainian_page.messages()[-1]["output"]
    assert shown.startswith("**Додані файли** (доступні лише в цьому чаті):")
    assert "- Проіндексовано **нотатка.txt**: фрагментів\\: 1 (txt)" in shown  # ":" escaped for Markdown
    assert "- Не вдалося використати **empty.txt**: файл порожній" in shown
