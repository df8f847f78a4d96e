"""Make text from documents and models inert before it reaches the page.

Chainlit renders Markdown. Document text (and model output, which may echo it) could carry
raw HTML, scripts, or Markdown images that make the browser fetch outside URLs: on a stage
with no internet that stalls the page, and it is an injection path. We escape rather than
strip so the reader still sees exactly what the document says.
"""

from __future__ import annotations

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that start inline markup, links/images or table cells. ("-", "+", "." and "("
# only form lists or link targets together with these, so they stay readable as they are.)
# ":" starts a directive ("upload:notes.md" would render as a broken ":notes" directive).
_MARKDOWN_PUNCTUATION = set("\\`*_[]#!|~:")


def escape_document_text(text: str) -> str:
    """Document text shown literally: no HTML, no links, images, emphasis or headings."""
    out: list[str] = []
    for char in text.replace("\x00", ""):
        if char in _HTML:
            out.append(_HTML[char])
        elif char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def escape_model_text(text: str) -> str:
    """Model output keeps its Markdown (lists, bold, [n] markers) but no HTML, images or headings.

    Works token by token: every rule is per character, so escaping a stream piecewise
    equals escaping the whole text.
    """
    out: list[str] = []
    for char in text.replace("\x00", ""):
        if char in _HTML:
            out.append(_HTML[char])
        elif char in "!#":  # "![alt](url)" fetches url; "#" headings echoed from sources shout
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def escape_inline(text: str) -> str:
    """A short label (file name, heading, query) inside Markdown: one line, fully escaped."""
    return escape_document_text(" ".join(text.split()))
