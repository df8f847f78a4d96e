"""The core's HTTP guards (`ragstage.web.guard`) on Chainlit's app: its routes and ours.

What is Chainlit-specific lives here: who is signed in (Chainlit's own token check, the one the
chat-files route uses), Chainlit's upload route and its limit, and the CSP of Chainlit's page
(it runs custom elements through `new Function`, hence 'unsafe-eval'; its two inline scripts are
allowed by hash, recomputed from the served template so a theme change cannot break the page).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import ModuleType
from typing import ParamSpec

import chainlit as cl
from chainlit.auth import authenticate_user, get_token_from_cookies
from chainlit.context import context
from starlette.requests import HTTPConnection

from ragstage.settings import Settings
from ragstage.ui.auth import sign_in_enabled
from ragstage.web.guard import GenerationLimiter, client_key, inline_script_hashes, install_guard, page_policy
from ragstage.web.guard.policy import WILDCARD_BINDS

log = logging.getLogger(__name__)
P = ParamSpec("P")

OWN_UI_PREFIX = "/ragstage/"  # the chat-files route (ui/history.py) and anything else of ours
UPLOAD_ROUTE = "/project/file"
MULTIPART_OVERHEAD_BYTES = 64 * 1024
CHAINLIT_PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)

_limiter: GenerationLimiter | None = None


async def signed_in_user(connection: HTTPConnection) -> str | None:
    """The identifier of the user whose Chainlit token (cookie, else bearer header) is valid."""
    token = get_token_from_cookies(dict(connection.cookies))
    if not token:
        scheme, _, bearer = connection.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else None
    if not token:
        return None
    try:
        user = await authenticate_user(token)
    except Exception:  # expired, forged, or signed with another secret: not signed in
        return None
    return getattr(user, "identifier", None)


def chainlit_page_csp(server: ModuleType) -> str:
    return CHAINLIT_PAGE_CSP.format(hashes=" ".join(inline_script_hashes(server.get_html_template(""))))


def install_security(server: ModuleType, settings: Settings | None = None) -> GenerationLimiter:
    """Guards Chainlit's app (`chainlit.server`); call once, at import time of app.py."""
    global _limiter
    from chainlit.config import config

    settings = settings or Settings()
    sign_in = sign_in_enabled(settings)
    policy = page_policy(settings, config.run.host, sign_in=sign_in)
    upload_bytes = int(settings.upload_max_mb * 1024 * 1024) + MULTIPART_OVERHEAD_BYTES
    policy = replace(
        policy,
        sign_in_prefixes=(*policy.sign_in_prefixes, OWN_UI_PREFIX) if sign_in else (),
        body_limits=(*policy.body_limits, (UPLOAD_ROUTE, upload_bytes)),
        html_csp=lambda: chainlit_page_csp(server),
    )
    config.project.allow_origins = list(policy.allowed_origins)  # what Chainlit would have used
    _limiter = install_guard(server.app, policy, signed_in_user if sign_in else None)
    log.info("guards on: hosts %s, extra origins %s, sign-in %s", ", ".join(policy.allowed_hosts),
             ", ".join(policy.allowed_origins) or "none", "on" if sign_in else "off")
    if (config.run.host or "").strip() in WILDCARD_BINDS and not settings.allowed_hosts:
        log.warning("listening on every address, but only loopback names are served: set "
                    "RAGSTAGE_ALLOWED_HOSTS to the names or addresses people will type")
    return _limiter


def _chat_client() -> str:
    user = context.session.user
    return client_key(getattr(user, "identifier", None), context.session.environ.get("asgi.scope", {}))


def limit_generations(answer: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """A chat answer counts against the same limits as the browser page's streams; past them
    the person is told to wait instead of queueing behind everyone else's answers."""

    @functools.wraps(answer)
    async def limited(*args: P.args, **kwargs: P.kwargs) -> None:
        limiter, client = _limiter, _chat_client()
        refusal = limiter.acquire(client) if limiter is not None else None
        if refusal is not None:
            await cl.Message(content=f"**Not answered now:** {refusal}.").send()
            return
        try:
            await answer(*args, **kwargs)
        finally:
            if limiter is not None:
                limiter.release(client)

    return limited
