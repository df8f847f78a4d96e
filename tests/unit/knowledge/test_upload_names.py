"""Uploads saved into knowledge/ get harmless names and never land outside the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from knowledge_factories import encrypted_pdf_bytes

from ragstage.knowledge import DocumentError, persist_upload, safe_upload_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\win.ini.txt", "win.ini.txt"),
        ("/abs/path/notes.md", "notes.md"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        ("lpt1.tar.md", "_lpt1.tar.md"),
        ("", "upload"),
        ("..", "upload"),
        ("...md", "md"),
        (".bashrc", "bashrc"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("rapport été ✨.md", "rapport été _.md"),
        ("trailing. .", "trailing"),
    ],
)
def test_safe_upload_name(name: str, expected: str):
    assert safe_upload_name(name) == expected


def test_very_long_names_are_shortened_but_keep_their_extension():
    safe = safe_upload_name("x" * 5000 + ".docx")
    assert safe.endswith(".docx") and len(safe) <= 120 and len(safe.encode()) < 255


def test_persist_writes_inside_the_folder_only(tmp_path: Path):
    folder = tmp_path / "knowledge"
    for name in ("../escape.md", "/tmp/abs.md", "sub/dir/deep.md", "..\\win.md"):
        path = persist_upload(folder, name, b"# Upload\n\nSome words.")
        assert path.parent == folder.resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["abs.md", "deep.md", "escape.md", "win.md"]
    assert not (tmp_path / "escape.md").exists()


def test_persist_never_overwrites_a_different_file(tmp_path: Path):
    first = persist_upload(tmp_path, "notes.md", b"first version")
    second = persist_upload(tmp_path, "notes.md", b"second version")
    again = persist_upload(tmp_path, "notes.md", b"second version")
    assert first.name == "notes.md" and second.name == "notes-2.md" and again == second
    assert first.read_bytes() == b"first version"


def test_persist_refuses_broken_content_and_writes_nothing(tmp_path: Path):
    with pytest.raises(DocumentError, match="encrypted PDF"):
        persist_upload(tmp_path, "locked.pdf", encrypted_pdf_bytes(["x"], user_password="pw"))
    with pytest.raises(DocumentError, match="binary data"):
        persist_upload(tmp_path, "blob.txt", b"\x00\x00")
    assert list(tmp_path.iterdir()) == []


def test_persist_does_not_follow_a_symlink_planted_in_the_folder(tmp_path: Path):
    folder, outside = tmp_path / "knowledge", tmp_path / "outside.md"
    folder.mkdir()
    outside.write_text("precious")
    (folder / "notes.md").symlink_to(outside)
    path = persist_upload(folder, "notes.md", b"upload text")
    assert path.name == "notes-2.md" and outside.read_text() == "precious"


def test_persisted_upload_is_searchable_after_refresh_and_a_broken_one_changes_nothing(tmp_path: Path):
    from ragstage.knowledge import KnowledgeBase
    from ragstage.settings import Settings

    folder = tmp_path / "knowledge"
    folder.mkdir()
    for name, text in (("a.md", "# A\n\nalpha words"), ("b.md", "# B\n\nbeta words"), ("c.md", "# C\n\ngamma")):
        (folder / name).write_text(text)
    kb = KnowledgeBase.open(folder, Settings(cache_dir=tmp_path / "cache"))
    before = kb.index.search("beta words", 3)
    with pytest.raises(DocumentError):
        persist_upload(folder, "../evil.pdf", b"%PDF-1.4 broken")
    assert kb.refresh().documents == 3 and kb.index.search("beta words", 3) == before
    persist_upload(folder, "../../upload notes.md", b"# Upload\n\nzeppelin maintenance schedule")
    kb.refresh()
    assert kb.index.search("zeppelin", 1)[0].chunk.source == "upload notes.md"
