"""Accounts for the optional sign-in: a users file of `user:bcrypt-hash` lines.

The file is plain text so an admin can manage it with `scripts/add_user.py` and an editor;
only bcrypt hashes are stored, never passwords. The session-signing secret is made once into
the git-ignored `.ragstage/` folder with owner-only permissions, so that a restart keeps
people signed in and nothing secret ever needs to be committed.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bcrypt

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")
AUTH_SECRET_ENV = "CHAINLIT_AUTH_SECRET"
DEFAULT_STATE_DIR = Path(".ragstage")
_BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")


class UsersFileError(ValueError):
    """The users file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: bytes


def parse_users(text: str, origin: str = "users file") -> dict[str, Account]:
    """Blank lines and `#` comments are ignored; a malformed line is an error, not a skip,
    because silently dropping an account locks someone out without telling anyone."""
    accounts: dict[str, Account] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        username, sep, hashed = line.partition(":")
        if not sep or not USERNAME_PATTERN.match(username):
            raise UsersFileError(f"{origin}:{number}: expected `user:bcrypt-hash` with a plain user name")
        if not hashed.encode().startswith(_BCRYPT_PREFIXES):
            raise UsersFileError(f"{origin}:{number}: the password of {username!r} is not a bcrypt hash")
        accounts[username] = Account(username, hashed.encode())
    return accounts


def read_users(path: Path) -> dict[str, Account]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise UsersFileError(f"{path}: cannot read the users file ({err.strerror or err})") from err
    return parse_users(text, str(path))


@cache
def _dummy_hash() -> bytes:
    """Checked against when the user is unknown, so the answer takes as long as for a known one."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=12))


def verify_password(accounts: dict[str, Account], username: str, password: str) -> bool:
    """Unknown users cost one bcrypt check too, so timing does not reveal who exists."""
    account = accounts.get(username)
    hashed = account.password_hash if account else _dummy_hash()
    try:
        matches = bcrypt.checkpw(password.encode("utf-8"), hashed)
    except ValueError:
        return False
    return matches and account is not None


def hash_password(password: str, rounds: int = 12) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


def set_user(path: Path, username: str, password: str, rounds: int = 12) -> None:
    """Adds the user, or replaces their password; other lines (and comments) stay as they were."""
    if not USERNAME_PATTERN.match(username):
        raise ValueError(f"user name {username!r}: use letters, digits and _ . @ + - (at most 64)")
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    parse_users("\n".join(lines), str(path))
    kept = [line for line in lines if line.strip().partition(":")[0] != username]
    kept.append(f"{username}:{hash_password(password, rounds)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    path.chmod(0o600)


def files_dir(database_url: str) -> Path:
    """Where stored chat files (citations, uploads) live: next to a SQLite database, so one
    database and its files move together; for a server database, `.ragstage/chat-files`."""
    prefix, sep, location = database_url.partition(":///")
    if sep and prefix.startswith("sqlite") and location and location != ":memory:":
        return Path(location).parent / "chat-files"
    return DEFAULT_STATE_DIR / "chat-files"


def ensure_auth_secret(folder: Path = DEFAULT_STATE_DIR) -> str:
    """The environment wins; otherwise a secret made once and kept in `folder/auth-secret`."""
    if os.environ.get(AUTH_SECRET_ENV):
        return os.environ[AUTH_SECRET_ENV]
    path = Path(folder) / "auth-secret"
    if path.exists() and path.read_text(encoding="utf-8").strip():
        secret = path.read_text(encoding="utf-8").strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
    os.environ[AUTH_SECRET_ENV] = secret
    return secret
