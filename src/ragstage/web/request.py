"""The browser page's request, validated at the edge before anything reaches the pipeline.

The request names a mode and carries text; it never carries a URL, a model id or a server
address: the endpoint only ever calls the endpoints the app is configured with. Unknown fields
are rejected so that a client cannot believe it steered something it did not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_QUESTION_CHARS = 2_000
MAX_CONTEXT_CHARS = 60_000
MAX_BODY_BYTES = 4 * (MAX_QUESTION_CHARS + MAX_CONTEXT_CHARS) + 4_096  # worst-case JSON escaping
MAX_TOKENS_CEILING = 1_024

PageMode = Literal["slm", "llm", "hybrid"]


class StreamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    mode: PageMode = "slm"
    context: str = Field("", max_length=MAX_CONTEXT_CHARS)
    use_knowledge_base: bool = False
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_CEILING)

    @property
    def plain(self) -> bool:
        """No reference text and no knowledge base: the model answers from what it knows, and
        the page says the answer has no sources."""
        return not self.use_knowledge_base and not self.context


class RequestRejected(Exception):
    """A request the endpoint refuses; `status` is the HTTP status, `str(err)` says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# What to change, per kind of problem (pydantic's error type): a refusal names the remedy.
REMEDIES = {
    "extra_forbidden": "unknown field (this endpoint takes no URLs, model ids or servers)",
    "missing": "missing: type a question",
    "string_too_short": "is empty: type a question",
    "string_too_long": "is too long ({max_length} characters at most): shorten it",
    "literal_error": "must be one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "json_invalid": "the request is not valid JSON: reload the page",
}


def _readable(err: ValidationError) -> str:
    """One line per problem, naming the field the way the page names it, and what to change."""
    lines = []
    for problem in err.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "request"
        remedy = REMEDIES.get(problem["type"])
        message = remedy.format(**problem.get("ctx", {})) if remedy else problem["msg"]
        lines.append(f"{field}: {message}")
    return "; ".join(lines)


def parse_stream_request(body: bytes) -> StreamRequest:
    """Parse and validate a JSON body, or raise `RequestRejected` with a readable reason."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return StreamRequest.model_validate_json(body)
    except ValidationError as err:
        raise RequestRejected(422, _readable(err)) from None
