"""A browser set to Ukrainian gets the app in Ukrainian: ragstage's own text (welcome, settings
panel, step names, the "not in the knowledge" reply) from ui/locales/uk.json, and Chainlit's own
interface strings, which Chainlit 2.12 does not ship in Ukrainian, from the same file."""

from __future__ import annotations

import pytest
from chat_driver import ASSISTANT, assistant_texts, send
from e2e_server import ANSWER_TIMEOUT_MS, screenshot

from ragstage.ui.locale import load_locale

pytestmark = pytest.mark.e2e
UKRAINIAN = load_locale("uk")
NOT_IN_THE_KNOWLEDGE = "Як приготувати борщ із квасолею?"  # no shared word with the English knowledge folder


@pytest.fixture
def ukrainian_page(browser, chainlit_server):
    """A tab whose browser says it is Ukrainian (navigator.language and Accept-Language: uk-UA)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=chainlit_server, locale="uk-UA")
    tab = context.new_page()
    yield tab
    context.close()


def test_a_ukrainian_browser_gets_the_app_in_ukrainian(ukrainian_page):
    page = ukrainian_page
    assert page.evaluate("navigator.language") == "uk-UA"
    page.goto("/")
    page.wait_for_selector(f"text={UKRAINIAN.text('welcome.title')}", timeout=ANSWER_TIMEOUT_MS)
    welcome = assistant_texts(page)[0]
    assert "База знань:" in welcome and "ragstage is ready" not in welcome
    for starter in UKRAINIAN.starters:
        page.get_by_role("button", name=starter.label).wait_for()
    assert page.get_attribute("#chat-input", "placeholder") == "Напишіть повідомлення..."  # Chainlit's own string
    screenshot(page, "10-ukrainian-welcome")

    page.click("#chat-settings-open-modal")
    page.get_by_text("Панель налаштувань").first.wait_for()  # Chainlit's panel title
    page.get_by_text(UKRAINIAN.text("settings.escalation_policy")).first.wait_for()
    screenshot(page, "11-ukrainian-settings")
    page.keyboard.press("Escape")

    send(page, NOT_IN_THE_KNOWLEDGE)
    page.get_by_text(UKRAINIAN.text("answer.not_covered")).wait_for(timeout=60_000)
    step = page.get_by_text(f"Використано {UKRAINIAN.text('step.retrieval')}", exact=True).last
    step.wait_for()  # Chainlit's "Used" and ragstage's step name, both in Ukrainian
    avatars = page.evaluate("""[...document.querySelectorAll('.step[data-step-type="retrieval"] img')]
                               .map(i => i.naturalWidth)""")
    assert avatars and all(width > 0 for width in avatars), "the translated step lost its avatar"
    assert "The knowledge base does not cover this" not in page.locator(ASSISTANT).last.inner_text()
    screenshot(page, "12-ukrainian-not-covered")
