"""How a guard says no: JSON with a readable reason for HTTP, a refused handshake for WebSockets,
and for a person who opened a protected page without signing in, a page with a link."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping

from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

# Loads nothing; its one inline style is allowed by hash. Readable on a projector, light or dark.
SIGN_IN_PAGE_STYLE = (
    ":root{color-scheme:light dark;font:1.25rem/1.5 system-ui,sans-serif}"
    "body{max-width:36rem;margin:18vh auto;padding:0 1.5rem}h1{font-size:2rem;margin:0 0 .5rem}"
    "a#sign-in{display:inline-block;padding:.35rem 1rem;border-radius:6px;background:#1d4ed8;color:#fff;"
    "text-decoration:none;font-weight:600}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(SIGN_IN_PAGE_STYLE.encode()).digest()).decode()
SIGN_IN_PAGE_CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
                    "form-action 'none'; frame-ancestors 'self'")
POLICY_VIOLATION = 1008  # WebSocket close code


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str,
                 headers: Mapping[str, str] | None = None) -> None:
    if scope["type"] == "websocket":  # closing before accepting makes the server answer 403
        await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": reason[:120]})
        return
    await JSONResponse({"error": reason}, status_code=status, headers=dict(headers or {}))(scope, receive, send)


def wants_page(scope: Scope, accept: str) -> bool:
    return scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and "text/html" in accept


async def sign_in_page(scope: Scope, receive: Receive, send: Send, sign_in_url: str, back_path: str) -> None:
    """401 for a browser tab: says what to do and links to it, instead of showing raw JSON.
    `back_path` is the canonical path (`//evil.example/../x` would otherwise link off-site)."""
    back = html.escape(back_path, quote=True)
    body = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in first</title>"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{SIGN_IN_PAGE_STYLE}</style></head>"
        f"<body><h1>Sign in first</h1><p>This page is for signed-in people. "
        f"<a id=\"sign-in\" href=\"{html.escape(sign_in_url, quote=True)}\">Sign in</a>, "
        f"then come back to <a href=\"{back}\">this page</a>.</p></body></html>"
    )
    headers = {"Content-Security-Policy": SIGN_IN_PAGE_CSP, "Cache-Control": "no-store"}
    await HTMLResponse(body, status_code=401, headers=headers)(scope, receive, send)
