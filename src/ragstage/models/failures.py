"""Turning whatever broke a model call into one typed, readable `ModelError`.

The client sees raw failures from three layers (openai's exceptions, httpx transport errors in
the middle of a stream, and broken JSON); this module maps each to the error people see, with
what happened and what to do. The mapping is a table, not an if/elif ladder, so a new failure
kind is one row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import openai

from ragstage.models.endpoint import ModelEndpoint
from ragstage.models.errors import (
    ContextOverflow,
    FirstTokenTimeout,
    MalformedStream,
    ModelError,
    ModelUnreachable,
    ServerError,
)

try:  # openai's own HTTP client library; a caller may hand us a client built on it
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError)
    _TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (httpx.TimeoutException, httpx2.TimeoutException)
    _CONNECT_ERRORS: tuple[type[BaseException], ...] = (httpx.ConnectError, httpx2.ConnectError, ConnectionRefusedError)
except ImportError:  # pragma: no cover - older openai releases use httpx itself
    _TRANSPORT_ERRORS = (httpx.TransportError,)
    _TIMEOUT_ERRORS = (httpx.TimeoutException,)
    _CONNECT_ERRORS = (httpx.ConnectError, ConnectionRefusedError)

# llama.cpp (both servers), OpenAI, vLLM and Ollama phrasings of "prompt too long"
_CONTEXT_OVERFLOW = re.compile(
    r"context_length_exceeded|maximum context length|context window|exceeds? (the )?(available )?context"
    r"|context size|too many tokens|prompt is too long|exceed_context_size",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FailureContext:
    """What the client knew when the call failed."""

    endpoint: ModelEndpoint
    partial_text: str
    got_first_token: bool
    first_token_timeout_s: float


def _advice_unreachable(endpoint: ModelEndpoint) -> str:
    if endpoint.backend == "embedded":
        return "ragstage restarts the embedded server on the next question: ask again."
    return (
        "Check that the server is running (Foundry Local: `foundry service status`); ragstage "
        "looks for it again on the next question."
    )


def _unreachable(err: BaseException, ctx: FailureContext) -> ModelError:
    where = f"{ctx.endpoint.label()} at {ctx.endpoint.base_url}"
    if ctx.got_first_token:
        what = f"The connection to {where} was lost mid-answer; the partial answer is kept."
    else:
        what = f"Could not reach {where} ({_cause_name(err)})."
    return ModelUnreachable(
        f"{what} {_advice_unreachable(ctx.endpoint)}", partial_text=ctx.partial_text, url=ctx.endpoint.base_url
    )


def _timeout(err: BaseException, ctx: FailureContext) -> ModelError:
    where = f"{ctx.endpoint.label()} at {ctx.endpoint.base_url}"
    if ctx.got_first_token:
        return ModelUnreachable(
            f"{where} stopped sending in the middle of the answer; the partial answer is kept. "
            f"{_advice_unreachable(ctx.endpoint)}",
            partial_text=ctx.partial_text,
            url=ctx.endpoint.base_url,
        )
    return FirstTokenTimeout(
        f"{where} sent no token within {ctx.first_token_timeout_s:g} s. The server may be busy or stuck: "
        "ask again, send less context (RAGSTAGE_CONTEXT_BUDGET_TOKENS), or raise RAGSTAGE_FIRST_TOKEN_TIMEOUT_S.",
        partial_text=ctx.partial_text,
        url=ctx.endpoint.base_url,
    )


def _server_message(err: openai.APIError) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:500]
    return str(err.message)[:500]


def _api_error(err: BaseException, ctx: FailureContext) -> ModelError:
    assert isinstance(err, openai.APIError)
    message = _server_message(err)
    status = getattr(err, "status_code", None)
    where = f"{ctx.endpoint.label()} at {ctx.endpoint.base_url}"
    if _CONTEXT_OVERFLOW.search(message) or _CONTEXT_OVERFLOW.search(str(err.code or "")):
        return context_overflow(ctx.endpoint, message, ctx.partial_text)
    answered = f"answered HTTP {status}" if status else "reported an error in the stream"
    if status in (401, 403):
        advice = "Set RAGSTAGE_API_KEY to a key this server accepts."
    elif status is not None and 400 <= status < 500:
        advice = f"The server rejected the request: check RAGSTAGE_{ctx.endpoint.role.upper()}_MODEL and the server's logs."
    else:
        advice = "This failed on the server side: ask again; if it keeps failing, restart the model server."
    return ServerError(
        f"{where} {answered}: {message}. {advice}",
        status_code=status,
        partial_text=ctx.partial_text,
        url=ctx.endpoint.base_url,
    )


def context_overflow(endpoint: ModelEndpoint, detail: str, partial_text: str = "") -> ContextOverflow:
    return ContextOverflow(
        f"The prompt does not fit the context window of {endpoint.label()} ({detail}). Lower "
        "RAGSTAGE_CONTEXT_BUDGET_TOKENS or RAGSTAGE_MAX_ANSWER_TOKENS, or raise RAGSTAGE_EMBEDDED_CTX_TOKENS "
        "for the embedded models.",
        partial_text=partial_text,
        url=endpoint.base_url,
    )


def malformed(endpoint: ModelEndpoint, detail: str, partial_text: str = "") -> MalformedStream:
    return MalformedStream(
        f"{endpoint.label()} at {endpoint.base_url} sent a reply that is not an OpenAI chat-completion "
        f"stream ({detail}). Check that RAGSTAGE_{endpoint.role.upper()}_BASE_URL points at an "
        "OpenAI-compatible /v1 endpoint.",
        partial_text=partial_text,
        url=endpoint.base_url,
    )


def _malformed(err: BaseException, ctx: FailureContext) -> ModelError:
    return malformed(ctx.endpoint, f"{type(err).__name__}: {str(err)[:200]}", ctx.partial_text)


def _cause_name(err: BaseException) -> str:
    return describe_connect_failure(err.__cause__ or err.__context__ or err)


def describe_connect_failure(err: BaseException) -> str:
    """A few words people understand instead of 'All connection attempts failed'."""
    text = str(err).lower()
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "unknown host"
    if isinstance(err, _CONNECT_ERRORS) or "refused" in text:
        return "connection refused"
    return str(err)[:200] or type(err).__name__


# first matching row wins: timeouts are connection errors in openai, so they come first
_TRANSLATIONS: tuple[tuple[tuple[type[BaseException], ...], Callable[[BaseException, FailureContext], ModelError]], ...] = (
    ((openai.APITimeoutError, *_TIMEOUT_ERRORS, TimeoutError), _timeout),
    ((openai.APIConnectionError, *_TRANSPORT_ERRORS, ConnectionError), _unreachable),
    ((openai.APIError,), _api_error),
    ((json.JSONDecodeError, ValueError, AttributeError, TypeError, KeyError), _malformed),
)


def translate(err: BaseException, ctx: FailureContext) -> ModelError:
    """The ModelError for `err`; unknown failures propagate unchanged (they are bugs)."""
    if isinstance(err, ModelError):
        return err
    for kinds, build in _TRANSLATIONS:
        if isinstance(err, kinds):
            return build(err, ctx)
    raise err


def is_retryable(error: ModelError) -> bool:
    """Worth another attempt before the first token: the server may be back or unburdened."""
    if isinstance(error, ServerError):
        return error.status_code is not None and (error.status_code >= 500 or error.status_code == 429)
    return isinstance(error, ModelUnreachable)
