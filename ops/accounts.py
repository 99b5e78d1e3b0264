"""Staff accounts from the command line (outside local mode there are no demo accounts)::

    python -m ops.accounts add wang --role agent      # asks for the password twice
    python -m ops.accounts passwd wang                # new password; every session of wang ends
    python -m ops.accounts disable admin             # cannot log in any more; its sessions end
    python -m ops.accounts enable wang
    python -m ops.accounts list

Production refuses to start while a demo account (agent1, editor1, reviewer1, admin) is enabled:
disable each one (``disable NAME``) after creating real accounts.

The password is read from the terminal, or from the first line of stdin when it is not a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from core.accounts import ROLES, AccountError, AccountStore, UserRow
from core.db import session_factory
from core.migrate import migrate
from core.settings import get_settings


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.accounts", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    sub.add_parser("passwd", help="set a new password (ends the account's sessions)").add_argument("username")
    sub.add_parser("disable", help="disable an account (ends its sessions)").add_argument("username")
    sub.add_parser("enable", help="enable a disabled account again").add_argument("username")
    sub.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)

    url = args.database_url or get_settings().database_url
    migrate(url)
    store = AccountStore(session_factory(url))
    try:
        if args.command == "add":
            account = store.create(args.username, _password(), args.role)
            print(f"created {account.username} ({account.role})")
        elif args.command == "passwd":
            store.set_password(args.username, _password())
            print(f"password of {args.username} changed; its sessions ended")
        elif args.command in ("disable", "enable"):
            store.set_disabled(args.username, args.command == "disable")
            print(f"{args.username} {args.command}d")
        else:
            with store.sessions() as s:
                for row in s.scalars(select(UserRow).order_by(UserRow.username)):
                    seen = row.last_seen.isoformat(timespec="seconds") + "Z" if row.last_seen else "-"
                    state = "\tdisabled" if row.disabled else ""
                    print(f"{row.username}\t{row.role}\tlast seen {seen}{state}")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
