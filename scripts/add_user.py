"""Add a user to the sign-in users file (or change their password).

    .venv/bin/python scripts/add_user.py users.txt alice          # asks for the password
    echo 's3cret' | .venv/bin/python scripts/add_user.py users.txt alice --stdin

Then start the app with `RAGSTAGE_USERS_FILE=users.txt chainlit run app.py`.
Only a bcrypt hash is written; the file is made readable by its owner only.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ragstage.accounts import UsersFileError, set_user


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("users_file", type=Path)
    parser.add_argument("username")
    parser.add_argument("--stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if password != getpass.getpass("again: "):
            print("the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    try:
        set_user(args.users_file, args.username, password)
    except (ValueError, UsersFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.username} can now sign in (users file: {args.users_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
