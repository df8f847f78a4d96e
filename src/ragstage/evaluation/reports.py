"""What bench and eval reports share: the machine description, JSON output, Markdown tables.

JSON holds every raw measurement (dataclasses as plain objects) so anyone can recompute a
number; Markdown holds the tables people read, with "-" where a value does not exist rather
than a misleading zero.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def plain(value: Any) -> Any:
    """Dataclasses (nested, in tuples and dicts) as JSON-ready values; a value with its own JSON
    shape (`AnswerResult`, `StageMetrics`) is written in that shape."""
    if callable(getattr(value, "to_json", None)) and not isinstance(value, type):
        return plain(value.to_json())
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def fmt_share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *(line(row) for row in rows)])
