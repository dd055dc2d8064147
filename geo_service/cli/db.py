"""Sub-command ``geo-service db upgrade``: run the migrations."""

from __future__ import annotations

import argparse
from typing import Any

from geo_service.cli.common import settings_and_storage


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Run the migrations."""
    from geo_service.storage import db

    settings, storage = settings_and_storage(migrate=False)
    db.upgrade(storage.engine)
    print(f"database at revision {db.current_revision(storage.engine)} ({settings.backend})")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``db`` command group."""
    p = subparsers.add_parser("db", help="database commands")
    dsub = p.add_subparsers(dest="db_command", required=True)
    d = dsub.add_parser("upgrade", help="run the migrations")
    d.set_defaults(func=cmd_db_upgrade)
