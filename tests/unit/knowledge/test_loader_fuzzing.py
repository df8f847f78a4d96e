"""Whatever bytes arrive, loading ends in a Document or a DocumentError: nothing else escapes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knowledge_factories import docx_bytes, pdf_bytes

from ragstage.knowledge import DocumentError, load_bytes

NAMES = st.sampled_from(["a.txt", "a.md", "a.pdf", "a.docx", "a.html", "a", "a.bin"])
SEEDS = {"pdf": pdf_bytes(["Seed text for mutation."]), "docx": docx_bytes("Seed", [("H", "body text")])}


def load_or_reject(name: str, data: bytes) -> None:
    try:
        doc = load_bytes(name, data, source=f"upload:{name}")
    except DocumentError as err:
        assert err.reason and err.path == name
    else:
        assert doc.text.strip() and "\x00" not in doc.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, data=st.binary(max_size=2048))
def test_random_bytes_are_loaded_or_rejected_cleanly(name: str, data: bytes):
    load_or_reject(name, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(SEEDS)), cut=st.floats(0, 1), flips=st.lists(st.integers(0, 10**6), max_size=8))
def test_damaged_real_pdf_and_docx_are_loaded_or_rejected_cleanly(kind: str, cut: float, flips: list[int]):
    data = bytearray(SEEDS[kind][: max(1, int(len(SEEDS[kind]) * cut))])
    for position in flips:
        data[position % len(data)] ^= 0xFF
    load_or_reject(f"x.{kind}", bytes(data))


@pytest.mark.parametrize("text", ["x" * 2_000_000, "\u202e evil \u200f rtl", "🙂" * 1000, "a\r\nb\rc"])
def test_awkward_but_valid_text_is_kept(text: str):
    doc = load_bytes("t.txt", text.encode(), source="upload:t.txt")
    assert doc.text == text.replace("\r\n", "\n").replace("\r", "\n")
