"""Bounded work per request: bodies are measured before anyone parses them, and answers being
generated are counted per client and in all, so one tab cannot queue up the model for everyone.

An excess answer is refused at once with 429 and `Retry-After` rather than queued: a queued
request holds a connection and makes the page look frozen, a refusal says what to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragstage.web.guard.access import USER_SCOPE_KEY
from ragstage.web.guard.replies import refuse

RETRY_AFTER_S = 5
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class GenerationLimiter:
    """Counts running generations; the event loop is single-threaded, so plain counters do."""

    def __init__(self, per_client: int, total: int) -> None:
        if per_client < 1 or total < 1:
            raise ValueError("generation limits must be at least 1")
        self.per_client, self.total = per_client, total
        self._running: Counter[str] = Counter()

    @property
    def running(self) -> int:
        return sum(self._running.values())

    def refusal(self, client: str) -> str | None:
        """Why `client` may not start another generation now, or None if it may."""
        if self._running[client] >= self.per_client:
            return f"{self.per_client} answer(s) of yours are still being generated; wait for one to finish"
        if self.running >= self.total:
            return f"{self.total} answers are being generated already; try again in a few seconds"
        return None

    def acquire(self, client: str) -> str | None:
        """Takes a slot and returns None, or returns the refusal and takes nothing."""
        reason = self.refusal(client)
        if reason is None:
            self._running[client] += 1
        return reason

    def release(self, client: str) -> None:
        self._running[client] -= 1
        if self._running[client] <= 0:
            del self._running[client]


def client_key(user: str | None, scope: Scope) -> str:
    """The signed-in user when there is one, else the peer address of the connection `scope`
    (an HTTP request, or the chat's WebSocket): the chat and the page count alike."""
    if user:
        return f"user:{user}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


class GenerationLimit:
    def __init__(self, app: ASGIApp, paths: Iterable[str], limiter: GenerationLimiter) -> None:
        self.app, self.paths, self.limiter = app, frozenset(paths), limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        client = client_key(scope.get(USER_SCOPE_KEY), scope)
        reason = self.limiter.acquire(client)
        if reason is not None:
            return await refuse(scope, receive, send, 429, reason, {"Retry-After": str(RETRY_AFTER_S)})
        try:  # the slot is held until the (streamed) response is over or the client has left
            await self.app(scope, receive, send)
        finally:
            self.limiter.release(client)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """`Content-Length` over the limit is refused before the handler runs; a chunked body is
    counted as it arrives and refused the moment it passes the limit."""

    def __init__(self, app: ASGIApp, limits: Iterable[tuple[str, int]], default_bytes: int) -> None:
        self.app, self.default_bytes = app, default_bytes
        self.limits = sorted(limits, key=lambda item: -len(item[0]))  # longest prefix first

    def limit_for(self, path: str) -> int:
        return next((size for prefix, size in self.limits if path.startswith(prefix)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        too_large = f"request body is larger than {limit} bytes"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not declared.isdigit():
            return await refuse(scope, receive, send, 400, "Content-Length is not a number")
        if declared is not None and int(declared) > limit:
            return await refuse(scope, receive, send, 413, too_large)
        started = False
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(too_large)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await refuse(scope, receive, send, 413, too_large)
