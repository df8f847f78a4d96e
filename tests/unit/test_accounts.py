"""Users file, password checks and the session-signing secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ragstage.accounts import (
    AUTH_SECRET_ENV, UsersFileError, ensure_auth_secret, files_dir, parse_users, read_users,
    set_user, verify_password,
)

ROOT = Path(__file__).resolve().parents[2]


def test_added_user_signs_in_with_their_password_only(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    set_user(users, "alice", "correct horse", rounds=4)
    set_user(users, "bob", "battery staple", rounds=4)
    accounts = read_users(users)
    assert verify_password(accounts, "alice", "correct horse")
    assert not verify_password(accounts, "alice", "battery staple")
    assert not verify_password(accounts, "carol", "correct horse")
    assert "correct horse" not in users.read_text()
    assert stat.S_IMODE(users.stat().st_mode) == 0o600


def test_changing_a_password_replaces_the_line_and_keeps_comments(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("# team accounts\n")
    set_user(users, "alice", "old", rounds=4)
    set_user(users, "alice", "new", rounds=4)
    lines = users.read_text().splitlines()
    assert lines[0] == "# team accounts" and len(lines) == 2
    assert verify_password(read_users(users), "alice", "new")
    assert not verify_password(read_users(users), "alice", "old")


@pytest.mark.parametrize("line, fragment", [
    ("alice", "expected `user:bcrypt-hash`"),
    ("alice:plaintext", "not a bcrypt hash"),
    ("al ice:$2b$04$abc", "expected `user:bcrypt-hash`"),
])
def test_malformed_users_file_line_is_reported_with_its_line_number(line: str, fragment: str) -> None:
    with pytest.raises(UsersFileError) as caught:
        parse_users(f"# header\n{line}\n", "users.txt")
    assert "users.txt:2" in str(caught.value) and fragment in str(caught.value)


def test_overlong_password_is_refused_not_crashing(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    set_user(users, "alice", "x" * 20, rounds=4)
    assert not verify_password(read_users(users), "alice", "x" * 500)


def test_auth_secret_is_created_once_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTH_SECRET_ENV, raising=False)
    first = ensure_auth_secret(tmp_path / "state")
    monkeypatch.delenv(AUTH_SECRET_ENV)
    second = ensure_auth_secret(tmp_path / "state")
    assert first == second and len(first) >= 40
    assert stat.S_IMODE((tmp_path / "state" / "auth-secret").stat().st_mode) == 0o600
    assert os.environ[AUTH_SECRET_ENV] == first


def test_auth_secret_from_environment_wins_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_SECRET_ENV, "given-by-the-admin")
    assert ensure_auth_secret(tmp_path) == "given-by-the-admin"
    assert not (tmp_path / "auth-secret").exists()


def test_chat_files_live_next_to_a_sqlite_database() -> None:
    assert files_dir("sqlite+aiosqlite:////data/chats.db") == Path("/data/chat-files")
    assert files_dir("postgresql+asyncpg://u:p@db/ragstage") == Path(".ragstage/chat-files")


def test_add_user_script_writes_a_usable_entry(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "add_user.py"), str(users), "dana", "--stdin"],
                          input="s3cret-pass\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert verify_password(read_users(users), "dana", "s3cret-pass")
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "add_user.py"), str(users), "../evil", "--stdin"],
                         input="pw\n", capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "user name" in bad.stderr


async def test_sign_in_callback_accepts_the_right_password_only(tmp_path: Path) -> None:
    from ragstage.ui.auth import password_callback

    users = tmp_path / "users.txt"
    set_user(users, "alice", "correct horse", rounds=4)
    sign_in = password_callback(users)
    user = await sign_in("alice", "correct horse")
    assert user is not None and user.identifier == "alice"
    assert await sign_in("alice", "wrong") is None
    assert await sign_in("mallory", "correct horse") is None
    users.write_text("broken line without a hash\n")  # a broken file refuses everyone, it does not crash
    assert await sign_in("alice", "correct horse") is None


def test_sign_in_is_off_unless_a_users_file_is_set(tmp_path: Path) -> None:
    from ragstage.settings import Settings
    from ragstage.ui.auth import check_users_file, sign_in_enabled

    assert not sign_in_enabled(Settings(_env_file=None))
    empty = tmp_path / "users.txt"
    empty.write_text("# nobody yet\n")
    assert sign_in_enabled(Settings(_env_file=None, users_file=empty))
    with pytest.raises(UsersFileError, match="no users yet"):
        check_users_file(empty)
