"""Sub-commands ``geo-service places ...`` (loaded by :mod:`geo_service.cli`): the gazetteer of place names.

::

    geo-service places load [--file boundaries/indonesia_places.csv.gz]
    geo-service places build --desa indonesia_desa.csv [--data-dir boundaries/] [-o FILE]
    geo-service places search "Ds. Baler Bale Agung, Negara" [--limit 5]

``load`` replaces the ``places`` table in one transaction (bulk insert; running servers use the
new table after a restart). ``build`` regenerates the shipped file from its sources (see
``boundaries/SOURCES.md``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from geo_service.cli.common import settings_and_storage
from geo_service.services import places


def cmd_load(args: argparse.Namespace) -> int:
    """Load the gazetteer file into the database."""

    _settings, storage = settings_and_storage()
    started = time.perf_counter()
    n = places.load_bundled_places(storage, Path(args.file))
    print(f"places: {n} loaded in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Rebuild the gazetteer file from the desa CSV and the national boundary files."""
    built = places.build_places(Path(args.desa), Path(args.data_dir))
    places.write_places_file(built, Path(args.output))
    print(f"places: {len(built)} written to {args.output}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Search the stored gazetteer (one JSON line per match)."""

    _settings, storage = settings_and_storage()
    for match in places.PlaceService(storage).search(args.text, index=None, limit=args.limit):
        print(json.dumps(match.to_dict(), ensure_ascii=False))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``places`` command group."""
    p = subparsers.add_parser("places", help="the gazetteer of place names (desa, kecamatan, kabupaten)")
    sub = p.add_subparsers(dest="places_command", required=True)
    load = sub.add_parser("load", help="replace the stored gazetteer with a gazetteer file (bulk insert)")
    load.add_argument("--file", default=str(places.PLACES_FILE), help="gazetteer CSV(.gz) (default %(default)s)")
    load.set_defaults(func=cmd_load)
    build = sub.add_parser("build", help="rebuild the gazetteer file from its sources")
    build.add_argument("--desa", required=True, help="indonesia_desa.csv (see boundaries/SOURCES.md)")
    build.add_argument("--data-dir", default=str(places.BOUNDARIES_DIR),
                       help="folder with the national kecamatan/kabupaten_kota/provinsi files")
    build.add_argument("-o", "--output", default=str(places.PLACES_FILE))
    build.set_defaults(func=cmd_build)
    search = sub.add_parser("search", help="search the stored gazetteer")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=10)
    search.set_defaults(func=cmd_search)
