"""Security headers on every response, the host application's pages included.

A response keeps any header its route set itself (the browser page sends a stricter CSP with the
in-tab engine's wasm needs; stored chat files are sandboxed); the rest get these defaults. The
CSP only matters for documents, so it goes on HTML responses; the HTML's own inline scripts are
allowed by hash (`inline_script_hashes`), never by 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_HTML_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Resource-Policy": "same-origin",
}
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """CSP sources (`'sha256-...'`) for the page's inline scripts, as the browser hashes them."""
    digests = (hashlib.sha256(body.encode("utf-8")).digest() for body in _INLINE_SCRIPT.findall(html))
    return tuple(dict.fromkeys(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests))


class SecurityHeaders:
    def __init__(self, app: ASGIApp, html_csp: Callable[[], str] = lambda: DEFAULT_HTML_CSP) -> None:
        self.app, self.html_csp = app, html_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_RESPONSE.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.html_csp())
            await send(message)

        await self.app(scope, receive, send_with_headers)
