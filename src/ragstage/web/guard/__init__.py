"""HTTP guards for the whole app: plain ASGI middleware, installed in front of every route.

Outermost first: security headers on every response; the `Host` allow-list (DNS rebinding);
the cross-site check (Origin / Sec-Fetch-Site / Referer); one CORS policy for the listed
origins; sign-in for the protected paths; body size limits; the generation limit. Never imports
Chainlit: the host application passes who is signed in (`authenticate`) and its own paths.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ragstage.web.guard.access import Authenticate, CrossSiteGuard, SignInGuard, canonical_path
from ragstage.web.guard.headers import DEFAULT_HTML_CSP, SecurityHeaders, inline_script_hashes
from ragstage.web.guard.limits import BodyLimit, GenerationLimit, GenerationLimiter, client_key
from ragstage.web.guard.origins import Origin, cross_site_refusal, normalized_origins
from ragstage.web.guard.policy import GuardPolicy, allowed_hosts, page_policy

__all__ = [
    "Authenticate", "DEFAULT_HTML_CSP", "GenerationLimiter", "GuardPolicy", "Origin", "allowed_hosts",
    "canonical_path", "client_key", "cross_site_refusal", "inline_script_hashes", "install_guard", "normalized_origins",
    "page_policy",
]

CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def install_guard(app: Starlette, policy: GuardPolicy, authenticate: Authenticate | None = None) -> GenerationLimiter:
    """Put the guards in front of `app` (before it serves its first request) and return the
    generation limiter, for other generators (the chat) to share. Any CORS middleware the app
    already had is replaced, so that one allow-list governs every route."""
    if policy.sign_in_prefixes and authenticate is None:
        raise ValueError("the policy protects paths with sign-in but no authenticate function was given")
    limiter = GenerationLimiter(policy.max_generations_per_client, policy.max_generations_total)
    app.user_middleware[:] = [m for m in app.user_middleware if m.cls is not CORSMiddleware]
    # add_middleware makes each new layer the outermost one: innermost first.
    app.add_middleware(GenerationLimit, paths=policy.generation_paths, limiter=limiter)
    app.add_middleware(BodyLimit, limits=policy.body_limits, default_bytes=policy.default_body_bytes)
    if policy.sign_in_prefixes:
        app.add_middleware(SignInGuard, prefixes=policy.sign_in_prefixes, authenticate=authenticate,
                           sign_in_url=policy.sign_in_url)
    app.add_middleware(CORSMiddleware, allow_origins=list(policy.allowed_origins), allow_credentials=True,
                       allow_methods=CORS_METHODS, allow_headers=["*"])
    app.add_middleware(CrossSiteGuard, allowed_origins=policy.allowed_origins)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(policy.allowed_hosts), www_redirect=False)
    app.add_middleware(SecurityHeaders, html_csp=policy.html_csp)
    return limiter
