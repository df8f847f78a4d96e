"""Who may reach the app: pages of this origin (or listed ones), and signed-in people.

`CrossSiteGuard` refuses, before any handler runs, every request a page of another origin makes
(reads, cross-site "simple" POSTs that skip the CORS preflight, WebSocket handshakes).
`SignInGuard` asks the host application who the caller is (`authenticate`) for the listed path
prefixes and answers 401 without a valid session; the user it finds is left in the scope for
the generation limit.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from ragstage.web.guard.origins import Origin, cross_site_refusal, request_origin
from ragstage.web.guard.replies import refuse, sign_in_page, wants_page

log = logging.getLogger(__name__)

Authenticate = Callable[[HTTPConnection], Awaitable[str | None]]  # the user's identifier or None
USER_SCOPE_KEY = "ragstage.user"


class CrossSiteGuard:
    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = frozenset(o for o in map(Origin.parse, allowed_origins) if o is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            connection = HTTPConnection(scope)
            own = request_origin(scope["scheme"], connection.headers.get("host"))
            reason = cross_site_refusal(scope.get("method", "GET"), connection.headers, own, self.allowed)
            if reason is not None:
                log.info("refused %s %s: %s", scope.get("method", "WEBSOCKET"), scope["path"], reason)
                return await refuse(scope, receive, send, 403, reason)
        await self.app(scope, receive, send)


def canonical_path(path: str) -> str:
    """`/public/./x`, `/public//x` and `/a/../public/x` are `/public/x` to a file route."""
    collapsed = posixpath.normpath(path or "/")
    return collapsed[1:] if collapsed.startswith("//") else collapsed


class SignInGuard:
    def __init__(self, app: ASGIApp, prefixes: Iterable[str], authenticate: Authenticate,
                 sign_in_url: str = "/login") -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.authenticate = authenticate
        self.sign_in_url = sign_in_url

    def protects(self, path: str) -> bool:
        path = canonical_path(path)
        return any(path.startswith(prefix) or f"{path}/" == prefix for prefix in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.protects(scope["path"]):
            return await self.app(scope, receive, send)
        connection = HTTPConnection(scope)
        user = await self.authenticate(connection)
        if user is None:
            if wants_page(scope, connection.headers.get("accept", "")):
                return await sign_in_page(scope, receive, send, self.sign_in_url, canonical_path(scope["path"]))
            reason = f"sign in first: {self.sign_in_url}"
            return await refuse(scope, receive, send, 401, reason, {"WWW-Authenticate": "Bearer"})
        scope[USER_SCOPE_KEY] = user
        await self.app(scope, receive, send)
