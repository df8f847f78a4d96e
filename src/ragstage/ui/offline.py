"""Serve Chainlit's page without outside requests.

Its HTML template links Google web fonts and a KaTeX stylesheet on a CDN; offline (a stage,
a plane) those links hold up rendering. We drop every <link> to another origin; the page
falls back to system fonts and stays fully usable.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Callable

_OUTSIDE_LINK = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"'](?:https?:)?//[^>]*>", re.IGNORECASE | re.DOTALL)
_MARK = "_ragstage_offline"


def strip_outside_links(html: str) -> str:
    return _OUTSIDE_LINK.sub("", html)


def install_offline_template(server: ModuleType) -> None:
    """Wrap `chainlit.server.get_html_template` (looked up per request), once."""
    original: Callable[[str], str] = server.get_html_template
    if getattr(original, _MARK, False):
        return

    def offline_html_template(root_path: str) -> str:
        return strip_outside_links(original(root_path))

    setattr(offline_html_template, _MARK, True)
    server.get_html_template = offline_html_template
