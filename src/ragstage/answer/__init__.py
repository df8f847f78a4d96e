"""Grounded answers: a budgeted prompt over retrieved sources, four modes, streamed events.

Public interface: `answer_stream` / `answer`, `AnswerOptions`, the event types and
`AnswerResult`. The core never imports Chainlit; the UI and the CLI only call these.
"""

from ragstage.answer.citations import cited_numbers, citations_for
from ragstage.answer.escalation import DraftSignals, decide_escalation
from ragstage.answer.modes import MODE_ROLES, MODES
from ragstage.answer.options import AnswerOptions, EscalationPolicy, Mode
from ragstage.answer.grounding import Grounding, ground, relevant_hits
from ragstage.answer.pipeline import NOT_COVERED, answer, answer_stream
from ragstage.answer.prompt import SYSTEM_PROMPT, Prompt, build_prompt
from ragstage.answer.refusal import is_refusal
from ragstage.answer.result import (
    AnswerEvent,
    AnswerResult,
    Citation,
    Done,
    Escalation,
    EscalationDecided,
    Retrieved,
    StageFailed,
    StageFinished,
    StageStarted,
    Token,
    passage_json,
)
from ragstage.answer.stage import StreamFn

__all__ = [
    "MODES",
    "MODE_ROLES",
    "NOT_COVERED",
    "SYSTEM_PROMPT",
    "AnswerEvent",
    "AnswerOptions",
    "AnswerResult",
    "Citation",
    "Done",
    "Escalation",
    "EscalationDecided",
    "DraftSignals",
    "EscalationPolicy",
    "Grounding",
    "Mode",
    "Prompt",
    "Retrieved",
    "StageFailed",
    "StageFinished",
    "StageStarted",
    "StreamFn",
    "Token",
    "answer",
    "answer_stream",
    "ground",
    "relevant_hits",
    "build_prompt",
    "citations_for",
    "cited_numbers",
    "passage_json",
    "decide_escalation",
    "is_refusal",
]
