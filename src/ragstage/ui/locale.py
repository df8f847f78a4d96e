"""The app's own words in the reader's language: one JSON file per language in `ui/locales/`.

A locale file holds `name` (the language's own name), `texts` (key -> text, `{placeholders}`
filled by `Locale.text`), `starters` (the welcome message's demo questions) and, for a language
Chainlit ships no translation of, `chainlit`: Chainlit's own interface strings, written into
`.chainlit/translations/` at start-up (that folder is generated, not kept in git).

Which file: the browser's language, matched as Chainlit matches its own translations (exact
tag, then the primary language, then a regional variant of it, then English), unless
`RAGSTAGE_UI_LANGUAGE` names one for every reader (a stage with a fixed language). Adding a
language is adding one file; tests check that it has every key and placeholder of English.

Pure: no Chainlit import (`install_chainlit_translations` is handed Chainlit's config module).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)
DEFAULT_LOCALE = "en"
_LOCALES_PACKAGE = "ragstage.ui"
_LOCALES_FOLDER = "locales"


@dataclass(frozen=True)
class StarterQuestion:
    label: str
    message: str


@dataclass(frozen=True)
class Locale:
    code: str  # the file's name: a BCP 47 tag such as "en", "uk" or "zh-CN"
    name: str
    texts: Mapping[str, str]
    starters: tuple[StarterQuestion, ...] = ()
    chainlit: Mapping[str, Any] | None = None  # Chainlit's own strings, where Chainlit has none

    def text(self, key: str, **values: Any) -> str:
        """The text of `key` with its placeholders filled; English's if this file lacks it."""
        template = self.texts.get(key)
        if template is None:
            template = english().texts[key] if self.code != DEFAULT_LOCALE else key
        return template.format(**values)


def _locale_files() -> dict[str, Any]:
    folder = resources.files(_LOCALES_PACKAGE).joinpath(_LOCALES_FOLDER)
    return {entry.name.removesuffix(".json"): entry for entry in folder.iterdir() if entry.name.endswith(".json")}


@cache
def locale_codes() -> tuple[str, ...]:
    """Every shipped locale, English first."""
    return tuple(sorted(_locale_files(), key=lambda code: (code != DEFAULT_LOCALE, code)))


def parse_locale(code: str, document: Mapping[str, Any]) -> Locale:
    texts = {str(k): str(v) for k, v in dict(document.get("texts") or {}).items()}
    starters = tuple(StarterQuestion(str(s["label"]), str(s["message"])) for s in document.get("starters") or ()
                     if str(s.get("label", "")).strip() and str(s.get("message", "")).strip())
    return Locale(code, str(document.get("name") or code), texts, starters, document.get("chainlit"))


@cache
def load_locale(code: str) -> Locale:
    """A shipped locale by its exact code; English when it is absent or unreadable (logged)."""
    entry = _locale_files().get(code)
    try:
        if entry is None:
            raise FileNotFoundError(f"no locale file {code}.json")
        return parse_locale(code, json.loads(entry.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as err:
        if code == DEFAULT_LOCALE:
            raise
        log.warning("locale %s unusable, English is used: %s", code, err)
        return english()


def english() -> Locale:
    return load_locale(DEFAULT_LOCALE)


def match_locale(language: str | None, available: tuple[str, ...]) -> str | None:
    """The available code for a browser language tag, as Chainlit picks its translation files:
    the exact tag ("zh-CN"), its primary language ("uk-UA" -> "uk"), a regional variant of that
    ("zh" or "zh-TW" -> "zh-CN"), else None. Tags are compared case-insensitively."""
    if not language or not language.strip():
        return None
    tag = language.strip().replace("_", "-")
    by_lower = {code.lower(): code for code in available}
    primary = tag.split("-")[0].lower()
    if tag.lower() in by_lower:
        return by_lower[tag.lower()]
    if primary in by_lower:
        return by_lower[primary]
    variants = sorted(code for code in available if code.lower().split("-")[0] == primary)
    return variants[0] if variants else None


def choose_locale(browser_language: str | None, override: str = "") -> Locale:
    """`override` (RAGSTAGE_UI_LANGUAGE) if set and shipped, else the browser's, else English."""
    available = locale_codes()
    for wanted in (override, browser_language):
        code = match_locale(wanted, available)
        if code is not None:
            return load_locale(code)
    return english()


def answer_footer_markers() -> tuple[str, ...]:
    """How the lines the chat adds under an answer begin, in every language (a resumed chat
    strips them from stored answers, whichever language they were written in)."""
    markers = set()
    for code in locale_codes():
        locale = load_locale(code)
        keys = ("answer.sources", "answer.sources_uncited", "answer.sources_model", "answer.sources_computed")
        markers |= {f"**{locale.text(key)}:**" for key in keys}
        markers.add(locale.text("answer.latency_chart", chart="").rstrip())
    return tuple(sorted(markers))


def install_chainlit_translations(chainlit_config: ModuleType, override: str | None = None) -> list[Path]:
    """Write Chainlit's interface strings for locales Chainlit ships none of (into its generated
    `.chainlit/translations/`), and make `override` (default: RAGSTAGE_UI_LANGUAGE) Chainlit's
    language for every reader too."""
    if override is None:
        from ragstage.settings import Settings

        override = Settings().ui_language
    if override and match_locale(override, locale_codes()) is None:
        log.warning("RAGSTAGE_UI_LANGUAGE=%s: no such locale (have %s); each reader's browser language is used",
                    override, ", ".join(locale_codes()))
    folder = Path(chainlit_config.config_translation_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for code in locale_codes():
        strings = load_locale(code).chainlit
        if not strings:
            continue
        target = folder / f"{code}.json"  # the name Chainlit's loader looks for
        text = json.dumps(strings, ensure_ascii=False, indent=2) + "\n"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    chosen = match_locale(override, locale_codes())
    if chosen is not None:
        chainlit_config.config.ui.language = chosen
    return written
