"""Optional password sign-in (Chainlit's password auth) backed by the users file.

Off unless `RAGSTAGE_USERS_FILE` is set, so `chainlit run app.py` still just works. The file is
read again at every sign-in, so adding a user with `scripts/add_user.py` needs no restart;
bcrypt runs in a worker thread because it is deliberately slow and would otherwise stall every
other session's stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import chainlit as cl

from ragstage.accounts import ensure_auth_secret, read_users, UsersFileError, verify_password
from ragstage.settings import Settings

log = logging.getLogger(__name__)

PasswordCallback = Callable[[str, str], Awaitable["cl.User | None"]]


def sign_in_enabled(settings: Settings) -> bool:
    return settings.users_file is not None


def check_users_file(users_file: Path) -> int:
    """Fails at start, with the file and line, rather than at the first sign-in."""
    accounts = read_users(users_file)
    if not accounts:
        raise UsersFileError(f"{users_file}: no users yet; add one with scripts/add_user.py")
    return len(accounts)


def password_callback(users_file: Path) -> PasswordCallback:
    async def sign_in(username: str, password: str) -> cl.User | None:
        try:
            accounts = await asyncio.to_thread(read_users, users_file)
        except UsersFileError as err:
            log.error("sign-in refused: %s", err)
            return None
        if not await asyncio.to_thread(verify_password, accounts, username, password):
            log.info("sign-in refused for %r", username)
            return None
        return cl.User(identifier=username, metadata={"provider": "credentials"})

    return sign_in


def configure_sign_in(settings: Settings) -> PasswordCallback:
    """Checks the users file, makes sure a session-signing secret exists, returns the callback
    for `cl.password_auth_callback`."""
    assert settings.users_file is not None
    users = check_users_file(settings.users_file)
    ensure_auth_secret()
    log.info("sign-in on: %d user(s) in %s", users, settings.users_file)
    return password_callback(settings.users_file)
