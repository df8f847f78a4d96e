"""Where a request comes from, as a browser tells it, and whether this app trusts that place.

Browsers name the page behind a request in `Origin` (every cross-origin fetch, every POST, every
WebSocket handshake), in `Sec-Fetch-Site` (Chromium, Firefox and Safari) and in `Referer`. A
page on another origin, even another port of the same machine, is not this app: its requests
may carry the user's cookies (same-site cookies are sent across ports), so only these headers
tell the two apart. Clients that send none of them are not browsers and cannot carry a victim's
cookies, so they pass; sign-in still applies to them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
WEBSOCKET_SCHEMES = {"ws": "http", "wss": "https"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OTHER_SITES = frozenset({"cross-site", "same-site"})  # same-site: another port or subdomain


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int

    @classmethod
    def parse(cls, text: str) -> Origin | None:
        """The origin of a URL or an `Origin` header; None for `null` or anything unparsable."""
        try:
            parts = urlsplit(text.strip())
            scheme = WEBSOCKET_SCHEMES.get(parts.scheme, parts.scheme)
            port = parts.port
        except ValueError:
            return None
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme])

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def normalized_origins(origins: Collection[str]) -> tuple[str, ...]:
    """Origins spelled the way browsers send them (no default port, no slash), so that exact
    matching (Starlette's CORS middleware) works; raises ValueError for a non-origin."""
    spelled = []
    for text in origins:
        origin = Origin.parse(text)
        if origin is None or text.strip() == "*":
            raise ValueError(f"{text!r} is not an origin like https://host[:port]")
        spelled.append(str(origin))
    return tuple(dict.fromkeys(spelled))


def request_origin(scheme: str, host_header: str | None) -> Origin | None:
    """This app's origin as the request addressed it (`Host` was checked before this runs)."""
    return Origin.parse(f"{scheme}://{host_header}") if host_header else None


def _top_level_navigation(method: str, headers: Mapping[str, str]) -> bool:
    """Following a link to the app from elsewhere is fine; being framed or fetched is not."""
    return (method in ("GET", "HEAD") and headers.get("sec-fetch-mode") == "navigate"
            and headers.get("sec-fetch-dest", "document") == "document")


def cross_site_refusal(method: str, headers: Mapping[str, str], own: Origin | None,
                       allowed: Collection[Origin]) -> str | None:
    """Why a request must be refused as coming from another site, or None when it may pass."""

    def trusted(text: str) -> bool:
        origin = Origin.parse(text)
        return origin is not None and (origin == own or origin in allowed)

    origin = headers.get("origin")
    if origin is not None:
        if trusted(origin):
            return None
        return (f"requests from {origin} are refused: this app answers its own pages only "
                "(RAGSTAGE_ALLOWED_ORIGINS lists others)")
    if headers.get("sec-fetch-site") in OTHER_SITES and not _top_level_navigation(method, headers):
        return "requests from another site are refused: this app answers its own pages only"
    referer = headers.get("referer")
    if method not in SAFE_METHODS and referer and not trusted(referer):
        return "a state-changing request from another site is refused"
    return None
