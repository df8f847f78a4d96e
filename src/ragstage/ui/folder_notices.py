"""What people are told about knowledge-folder files that could not be indexed.

New chats list them in the welcome message; a chat that is already open gets one line after
its next answer when a file broke (or appeared unreadable) since it last heard, so nobody is
left wondering why a document they just dropped into the folder is never cited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragstage.ui.escaping import escape_inline
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.ui.session import ChatSession

MAX_LISTED = 5


def problem_text(knowledge: Any, path: str, reason: str, locale: Locale | None = None) -> str:
    """The file and why it could not be read (the reason comes from the knowledge package, in English)."""
    kept = "folder.previous_version_used" if knowledge.index.chunks_of(path) else "folder.not_searchable"
    return f"**{escape_inline(path)}**: {escape_inline(reason)} ({(locale or english()).text(kept)})"


def problems_markdown(knowledge: Any, locale: Locale | None = None) -> str:
    """For the welcome message: which files could not be indexed, and why ("" when none)."""
    locale = locale or english()
    problems = sorted(knowledge.report.skipped)
    if not problems:
        return ""
    lines = ["\n" + locale.text("folder.problems", count=len(problems))]
    lines += [f"- {problem_text(knowledge, path, reason, locale)}" for path, reason in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append("- " + locale.text("folder.more_problems", count=len(problems) - MAX_LISTED))
    return "\n".join(lines)


def new_problems_notice(session: ChatSession, knowledge: Any) -> str | None:
    """One line about files that went bad since this chat was last told; None if there are none."""
    current = frozenset(knowledge.report.skipped)
    new = sorted(current - session.folder_problems_seen)
    session.folder_problems_seen = current
    if not new:
        return None
    locale = session.locale
    more = locale.text("folder.new_problem_more", count=len(new) - 1) if len(new) > 1 else ""
    return locale.text("folder.new_problem", problem=problem_text(knowledge, *new[0], locale), more=more)
