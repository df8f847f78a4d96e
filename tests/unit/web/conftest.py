"""Fixtures for the page's endpoint tests; the fakes themselves live in web_fakes.py."""

from __future__ import annotations

import httpx
import pytest
from web_fakes import Script, ScriptedRuntime, kb_index, make_settings, page_app

from ragstage.settings import Settings


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def client(settings, script):
    app = page_app(ScriptedRuntime(settings, kb_index(), script))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://page.test") as c:
        yield c
