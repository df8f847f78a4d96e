"""What the guards allow, as one value: hosts, origins, protected paths, limits.

`page_policy` covers this package's own routes (the browser page); the host application adds
its own paths and page CSP with `dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ragstage.settings import Settings
from ragstage.web.assets import ENGINE_PREFIX, MODEL_PREFIX
from ragstage.web.guard.headers import DEFAULT_HTML_CSP
from ragstage.web.guard.origins import normalized_origins
from ragstage.web.request import MAX_BODY_BYTES
from ragstage.web.routes import API_PREFIX

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
DEFAULT_BODY_BYTES = 1024 * 1024  # every other route: JSON, forms, socket.io polling
PAGE_PREFIXES = ("/public/webgpu_demo", f"{API_PREFIX}/", f"{ENGINE_PREFIX}/", f"{MODEL_PREFIX}/")
GENERATION_PATHS = (f"{API_PREFIX}/stream",)


@dataclass(frozen=True)
class GuardPolicy:
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS  # `Host` names; `*.x` subdomains, `*` any
    allowed_origins: tuple[str, ...] = ()            # other origins trusted with cookies (CORS)
    sign_in_prefixes: tuple[str, ...] = ()           # paths that need a signed-in user
    sign_in_url: str = "/login"
    body_limits: tuple[tuple[str, int], ...] = ()    # (path prefix, bytes)
    default_body_bytes: int = DEFAULT_BODY_BYTES
    generation_paths: tuple[str, ...] = ()           # POSTs counted by the generation limit
    max_generations_per_client: int = 2
    max_generations_total: int = 4
    html_csp: Callable[[], str] = field(default=lambda: DEFAULT_HTML_CSP)


def host_name(host: str) -> str:
    """`::1` and `[::1]` alike become `[::1]`, the way a `Host` header spells it."""
    host = host.strip().lower().rstrip(".")
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(extra: Iterable[str], bind_host: str | None) -> tuple[str, ...]:
    """Loopback names, the host the server was started on (unless it binds every address, which
    names no host), and the configured extras."""
    bound = () if bind_host is None or bind_host.strip() in WILDCARD_BINDS else (bind_host,)
    return tuple(dict.fromkeys(host_name(h) for h in (*LOOPBACK_HOSTS, *bound, *extra)))


def page_policy(settings: Settings, bind_host: str | None, *, sign_in: bool) -> GuardPolicy:
    """The policy for the browser page's routes under `settings`."""
    return GuardPolicy(
        allowed_hosts=allowed_hosts(settings.allowed_hosts, bind_host),
        allowed_origins=normalized_origins(settings.allowed_origins),
        sign_in_prefixes=PAGE_PREFIXES if sign_in else (),
        body_limits=((f"{API_PREFIX}/", MAX_BODY_BYTES),),
        generation_paths=GENERATION_PATHS,
        max_generations_per_client=settings.max_generations_per_client,
        max_generations_total=settings.max_generations_total,
    )
