"""The ``geo-service`` command line. Every command calls the same services as the HTTP API.

One module per command group (``serve``, ``db``, ``accounts`` for tokens and users, ``coords``,
``boundaries`` with stations, ``national``, ``incidents`` with the demo data, ``places``, ``calls``),
each with a ``register(subparsers)``; what they share is in :mod:`geo_service.cli.common`.
The package imports no Flask and nothing of ``geo_service.web`` at import time (``serve`` builds the
app when it runs), and ``geo_service.web`` never imports it: the ``flask --app geo_service geo``
command is added by :func:`geo_service.create_app`.

Configuration errors print one line (``geo-service: error: ...``) and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from geo_service.errors import ConfigError, GeoServiceError

LOGGER = logging.getLogger(__name__)

#: The command-group modules, in the order of ``--help`` (``national`` adds ``boundaries load-national``
#: to the group ``boundaries`` made before it).
COMMAND_MODULES = ("serve", "db", "accounts", "coords", "boundaries", "national", "incidents", "places", "calls")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="geo-service", description="geo_service command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(level=os.environ.get("GEO_SERVICE_LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"geo-service: error: {exc.detail}", file=sys.stderr)
        return 2
    except GeoServiceError as exc:
        print(f"geo-service: {exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def register_flask_commands(app: Any) -> None:
    """``flask --app geo_service geo ARGS`` runs the same commands as ``geo-service ARGS``."""
    import click

    @app.cli.command("geo", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.argument("argv", nargs=-1, type=click.UNPROCESSED)
    def _geo(argv: tuple[str, ...]) -> None:
        raise SystemExit(main(list(argv)))


__all__ = ["main", "build_parser", "register_flask_commands"]
