"""What people are told about knowledge-folder files that could not be indexed.

New chats list them in the welcome message; a chat that is already open gets one line after
its next answer when a file broke (or appeared unreadable) since it last heard, so nobody is
left wondering why a document they just dropped into the folder is never cited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragstage.ui.escaping import escape_inline

if TYPE_CHECKING:
    from ragstage.ui.session import ChatSession

MAX_LISTED = 5


def problem_text(knowledge: Any, path: str, reason: str) -> str:
    kept = "its previous version is still used" if knowledge.index.chunks_of(path) else "not searchable"
    return f"**{escape_inline(path)}**: {escape_inline(reason)} ({kept})"


def problems_markdown(knowledge: Any) -> str:
    """For the welcome message: which files could not be indexed, and why ("" when none)."""
    problems = sorted(knowledge.report.skipped)
    if not problems:
        return ""
    lines = [f"\n{len(problems)} file(s) in the knowledge folder could not be indexed:"]
    lines += [f"- {problem_text(knowledge, path, reason)}" for path, reason in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"- and {len(problems) - MAX_LISTED} more (listed in the server log)")
    return "\n".join(lines)


def new_problems_notice(session: ChatSession, knowledge: Any) -> str | None:
    """One line about files that went bad since this chat was last told; None if there are none."""
    current = frozenset(knowledge.report.skipped)
    new = sorted(current - session.folder_problems_seen)
    session.folder_problems_seen = current
    if not new:
        return None
    more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
    return f"Knowledge folder: {problem_text(knowledge, *new[0])}{more}."
