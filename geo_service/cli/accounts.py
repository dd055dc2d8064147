"""Sub-commands ``geo-service token create|revoke`` and ``geo-service user create``."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from geo_service.cli.common import settings_and_storage

ROLES = ["admin", "supervisor", "dispatcher", "officer"]



def cmd_token_create(args: argparse.Namespace) -> int:
    """Create a bearer token; prints it as the last line (only its hash is stored)."""
    from geo_service.storage import repo
    from geo_service.storage.types import utcnow

    _settings, storage = settings_and_storage()
    expires = utcnow() + timedelta(days=args.expires_days) if args.expires_days else None
    with storage.transaction() as session:
        row, clear = repo.create_token(session, name=args.name, role=args.role, unit_code=args.unit,
                                       expires_at=expires, created_by="cli")
        token_id = row.id
    print(f"token {token_id} for {args.name!r} ({args.role}{', unit ' + args.unit if args.unit else ''})"
          f"{', expires ' + expires.isoformat() if expires else ''}:", file=sys.stderr)
    print(clear)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id."""
    from geo_service.services import accounts

    _settings, storage = settings_and_storage()
    with storage.transaction() as session:
        accounts.revoke_token(session, args.id, actor="cli")
    print(f"token {args.id} revoked")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create a page user; the password comes from stdin (one line) or a prompt."""
    import getpass

    from geo_service.services import accounts

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    _settings, storage = settings_and_storage()
    with storage.transaction() as session:
        user = accounts.create_user(session, username=args.username, password=password, role=args.role,
                                    unit_code=args.unit, actor="cli")
        print(f"user {user.username} ({user.role}) created")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``token`` and ``user`` command groups."""
    p = subparsers.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    t = tsub.add_parser("create", help="create a bearer token (printed as the last line)")
    t.add_argument("--role", required=True, choices=ROLES)
    t.add_argument("--name", required=True)
    t.add_argument("--unit", default=None, help="unit code the token is scoped to (supervisor/officer)")
    t.add_argument("--expires-days", type=float, default=None)
    t.set_defaults(func=cmd_token_create)
    t = tsub.add_parser("revoke", help="revoke a token")
    t.add_argument("id", type=int)
    t.set_defaults(func=cmd_token_revoke)

    p = subparsers.add_parser("user", help="page users")
    usub = p.add_subparsers(dest="user_command", required=True)
    u = usub.add_parser("create", help="create a page user (password hashed with argon2id)")
    u.add_argument("--username", required=True)
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--unit", default=None)
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u.set_defaults(func=cmd_user_create)
