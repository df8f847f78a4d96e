"""Saving uploads into the knowledge folder without ever writing outside it.

Upload names come from browsers and are hostile by default: `../../etc/passwd`, `C:\\x`,
`CON`, names of 5,000 characters or of nothing at all. `safe_upload_name` reduces any of them to
a plain file name; `persist_upload` validates the content first, so a broken upload never
lands in the folder (and so never breaks the index on the next refresh).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from pathlib import Path

from ragstage.knowledge.loaders import load_bytes

MAX_NAME_CHARS = 120  # well under every filesystem's 255-byte limit, even in UTF-8
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"] + [f"{p}{i}" for p in ("COM", "LPT") for i in range(10)]
)
_UNSAFE_CHARS = re.compile(r"[^\w.\- ()\[\]+,]")


def safe_upload_name(name: str) -> str:
    """A harmless file name derived from `name`: no folders, no reserved or hidden names."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # drop any directory part, POSIX or Windows
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # control, format chars
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")  # no leading dots (hidden), no trailing (Windows)
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension[:16]
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    stem = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip(" .") or "upload"
    return f"{stem}.{extension}" if extension else stem


def _unique_target(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """(where to write, whether an identical file is already there): name, name-2, name-3 ..."""
    stem, extension = os.path.splitext(name)
    digest = hashlib.sha256(data).digest()
    for attempt in range(1, 1000):
        candidate = folder / (name if attempt == 1 else f"{stem}-{attempt}{extension}")
        if candidate.is_symlink():
            continue
        if not candidate.exists():
            return candidate, False
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).digest() == digest:
            return candidate, True
    raise FileExistsError(f"too many uploads named {name} in {folder}")


def persist_upload(folder: Path, name: str, data: bytes) -> Path:
    """Validate `data` as a document, then write it under a safe name inside `folder`.

    Raises DocumentError (nothing written) when the content is not a readable document.
    """
    safe = safe_upload_name(name)
    load_bytes(safe, data, source=safe)  # refuses broken, encrypted or mislabelled content
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target, already_there = _unique_target(folder, safe, data)
    if target.parent != folder:  # belt and braces: the name has no separators left
        raise ValueError(f"refusing to write {target} outside {folder}")
    if already_there:
        return target
    tmp = folder / f".upload-{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
