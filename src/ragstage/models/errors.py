"""Typed model errors whose text is shown to people as is.

Every message says what happened and what to do about it, because on a stage (or in a terminal)
nobody reads a traceback. Each error keeps the text that arrived before the failure so that a
partial answer is never thrown away.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every model-call failure; `str(err)` is a readable message with a remedy."""

    def __init__(self, message: str, *, partial_text: str = "", url: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.url = url

    @property
    def message(self) -> str:
        return str(self)


class ModelUnreachable(ModelError):
    """Connection refused, dropped mid-answer, or no endpoint serves the model."""


class FirstTokenTimeout(ModelError):
    """The server accepted the request but sent no token in time."""


class ServerError(ModelError):
    """The server answered with an HTTP error (or an error event inside the stream)."""

    def __init__(self, message: str, *, status_code: int | None = None, **kwargs: str) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code


class MalformedStream(ModelError):
    """The reply was not a well-formed OpenAI chat-completion stream."""


class ContextOverflow(ModelError):
    """The prompt (plus the answer budget) does not fit the model's context window."""


class ModelMismatch(ModelError):
    """The server says it served a different model than the one asked for."""
