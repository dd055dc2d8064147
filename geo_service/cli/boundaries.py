"""Sub-commands ``geo-service boundaries import|list|publish|diff`` and ``geo-service stations import|list|publish``.

They call the same services as the admin API and the pages (``services/boundaries.py`` reads a
file into a set, ``services/sets.py`` lists and publishes both kinds of set): an import always
creates a checked draft set and never deletes anything; ``publish`` flips the published set
in one transaction and every running worker picks it up within ``reload_interval_s``.
Loaded by :mod:`geo_service.cli`; other modules add their own commands to the same groups through
:func:`geo_service.cli.common.command_group`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from geo_service.cli.common import command_group, settings_and_storage, step_progress

_STEPS = 4  # progress messages import_boundaries sends: read, build, check, store


def _storage() -> tuple[Any, Any]:
    """Settings and storage, migrated, with the bundled set loaded on an empty database.

    Loading the bundled set first keeps the CLI and the server in step: an import merges
    with the published levels, exactly as an upload through the API does.
    """
    from geo_service.services.bootstrap import ensure_bundled

    settings, storage = settings_and_storage()
    ensure_bundled(storage, settings)
    return settings, storage


def _read(path: str) -> bytes:
    from geo_service.errors import BadRequest

    p = Path(path)
    if not p.is_file():
        raise BadRequest(f"{path} is not a file", code="FILE_MISSING")
    return p.read_bytes()


def _print_report(report: dict[str, Any], limit: int) -> None:
    for severity in ("errors", "warnings", "info"):
        items = report.get(severity) or []
        for item in items[:limit]:
            where = ""
            if item.get("location"):
                where = f" @ {item['location']['lat']:.5f}, {item['location']['lon']:.5f}"
            print(f"  {severity[:-1] if severity != 'info' else 'info':7} {item['code']}: {item['message']}{where}")
        if len(items) > limit:
            print(f"  ({len(items) - limit} more {severity}; --limit or the API shows them all)")


def _kind(args: argparse.Namespace) -> Any:
    from geo_service.services.sets import SET_KINDS

    return SET_KINDS[args.kind]


def _report_import(args: argparse.Namespace, storage: Any, summary: dict[str, Any], report: dict[str, Any]) -> int:
    """Print what an import stored (text or JSON) and publish it with --publish (both kinds of set)."""
    kind = _kind(args)
    if args.json:
        print(json.dumps({**summary, "report": report}, ensure_ascii=False, indent=1))
    else:
        print(f"{kind.label} {summary['id']} ({summary['status']}): {summary[kind.count_key]} {kind.count_key}, "
              f"{summary['errors']} errors, {summary['warnings']} warnings")
        _print_report(report, args.limit)
    if args.publish:
        _publish(kind, storage, summary["id"])  # SET_HAS_ERRORS -> exit status 1
    return 0


def _publish(kind: Any, storage: Any, set_id: int) -> None:
    with storage.transaction() as session:
        generation = kind.publish(session, set_id, actor="cli")
    print(f"{kind.label} {set_id} published (generation {generation})")


def cmd_sets_list(args: argparse.Namespace) -> int:
    """Every boundary or station set, newest first."""
    kind = _kind(args)
    _settings, storage = _storage()
    with storage.session() as session:
        listing = kind.listing(session)
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=1))
        return 0
    count = kind.count_key
    print(f"{'id':>4}  {'status':9}  {count:>8}  {'err':>4}  {'warn':>5}  {'created':16}  name")
    for s in listing["sets"]:
        print(f"{s['id']:>4}  {s['status']:9}  {s[count]:>8}  {s['errors']:>4}  {s['warnings']:>5}  "
              f"{s['created_at'][:16]:16}  {s['name']}")
    return 0


def cmd_sets_publish(args: argparse.Namespace) -> int:
    """Publish a boundary or station set (re-publishing an older one is the rollback)."""
    _settings, storage = _storage()
    _publish(_kind(args), storage, args.id)
    return 0


# ------------------------------------------------------------------ boundaries


def cmd_boundaries_import(args: argparse.Namespace) -> int:
    """Read and check a boundary file as a draft set; publish it with --publish when it has no errors."""
    from geo_service.services import boundaries
    from geo_service.services.sets import BOUNDARY_SETS

    data = _read(args.file)
    mapping = _read(args.mapping) if args.mapping else None
    _settings, storage = _storage()
    step, close = step_progress(_STEPS)
    try:
        with storage.transaction() as session:
            bset = boundaries.import_boundaries(
                session, data=data, filename=Path(args.file).name, level=args.level, actor="cli",
                code_field=args.code_field, name_field=args.name_field, parent_field=args.parent_field,
                source_crs=args.crs, mapping_csv=mapping, name=args.name, progress=step, source="cli",
            )
            report, summary = dict(bset.report or {}), BOUNDARY_SETS.summary(session, bset.id)
    finally:
        close()
    return _report_import(args, storage, summary, report)


def cmd_boundaries_diff(args: argparse.Namespace) -> int:
    """Units added, removed and changed against the published set (or --against)."""
    from geo_service.services import boundaries

    _settings, storage = _storage()
    with storage.session() as session:
        diff = boundaries.diff_against_published(session, args.id, args.against)
    if args.json:
        print(json.dumps(diff, ensure_ascii=False, indent=1))
        return 0
    s = diff["summary"]
    print(f"set {diff['set']} against {diff['against']}: {s['added']} added, {s['removed']} removed, "
          f"{s['changed']} changed")
    for c in diff["changes"][: args.limit]:
        area = c.get("changed_area_m2")
        extra = f" ({', '.join(c['fields'])})" if c["fields"] else ""
        print(f"  {c['change']:8} {c['code']:14} {c['name']}{extra}"
              + (f"  {area / 1e6:,.3f} km²" if area else ""))
    if len(diff["changes"]) > args.limit:
        print(f"  ({len(diff['changes']) - args.limit} more; --limit or --json shows them all)")
    return 0


# ------------------------------------------------------------------ stations


def cmd_stations_import(args: argparse.Namespace) -> int:
    """Read and check a station file (CSV or GeoJSON) as a draft station set; --publish publishes it."""
    from geo_service.services import boundaries
    from geo_service.services.sets import STATION_SETS

    data = _read(args.file)
    _settings, storage = _storage()
    with storage.transaction() as session:
        sset = boundaries.import_stations(session, data=data, filename=Path(args.file).name, actor="cli",
                                          name=args.name)
        report, summary = dict(sset.report or {}), STATION_SETS.summary(session, sset.id)
    return _report_import(args, storage, summary, report)


# ------------------------------------------------------------------ parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--limit", type=int, default=20, help="report lines shown per severity (default 20)")


def _add_list_and_publish(group: Any, kind: str) -> None:
    p = group.add_parser("list", help=f"every {kind} set, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sets_list, kind=kind)
    p = group.add_parser("publish", help=f"publish a {kind} set; re-publishing an older one is the rollback")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_sets_publish, kind=kind)


def register(subparsers: Any) -> None:
    """Add the ``boundaries`` and ``stations`` command groups."""
    bsub = command_group(subparsers, "boundaries", "boundary sets: import, list, diff, publish")
    p = bsub.add_parser("import", help="read and check a boundary file as a draft set (never deletes anything)")
    p.add_argument("file", help="GeoJSON, zipped Shapefile (with .prj), GeoPackage, KML/KMZ or WKT CSV")
    p.add_argument("--level", choices=["polda", "polres", "polsek"],
                   help="level of the units in the file (with --mapping: level of the areas, default polsek)")
    p.add_argument("--mapping", default=None,
                   help="CSV unit_code,unit_name,level,parent_code,area_code: build units from the file's areas")
    p.add_argument("--code-field", default=None)
    p.add_argument("--name-field", default=None)
    p.add_argument("--parent-field", default=None)
    p.add_argument("--crs", default=None, help="CRS of a file that has none, e.g. EPSG:32750")
    p.add_argument("--name", default=None, help="name of the new set")
    p.add_argument("--publish", action="store_true", help="publish the set when its report has no errors")
    _common(p)
    p.set_defaults(func=cmd_boundaries_import, kind="boundary")
    _add_list_and_publish(bsub, "boundary")
    p = bsub.add_parser("diff", help="units added, removed and changed against the published set")
    p.add_argument("id", type=int)
    p.add_argument("--against", type=int, default=None, help="compare with this set instead")
    _common(p)
    p.set_defaults(func=cmd_boundaries_diff)

    ssub = command_group(subparsers, "stations", "station sets: import, list, publish")
    p = ssub.add_parser("import", help="read and check a station file (CSV or GeoJSON) as a draft set")
    p.add_argument("file")
    p.add_argument("--name", default=None)
    p.add_argument("--publish", action="store_true", help="publish the set when its report has no errors")
    _common(p)
    p.set_defaults(func=cmd_stations_import, kind="station")
    _add_list_and_publish(ssub, "station")
