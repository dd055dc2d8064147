"""Sub-commands ``geo-service boundaries import|list|publish|diff`` and ``geo-service stations import|list|publish``.

They call the same services as the admin API (``services/boundaries.py``): an import always
creates a checked draft set and never deletes anything; ``publish`` flips the published set
in one transaction and every running worker picks it up within ``reload_interval_s``.
Loaded by :mod:`geo_service.cli`; other modules add their own commands to the same groups through
:func:`geo_service.cli.common.command_group`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo_service.cli.common import command_group, settings_and_storage

_STEPS = 4  # progress messages import_boundaries sends: read, build, check, store


def _progress(total: int) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress callback and its closer: a tqdm bar on a terminal, plain lines otherwise."""
    from tqdm import tqdm

    if sys.stderr.isatty():
        bar = tqdm(total=total, file=sys.stderr, unit="step", leave=False)

        def step(message: str) -> None:
            bar.set_description_str(message[:60])
            bar.update(1)

        return step, bar.close

    def line(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    return line, lambda: None


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


def _publish_boundaries(storage: Any, set_id: int) -> int:
    from geo_service.services import boundaries

    with storage.transaction() as session:
        return boundaries.publish(session, set_id, actor="cli")


# ------------------------------------------------------------------ boundaries


def cmd_boundaries_import(args: argparse.Namespace) -> int:
    """Read and check a boundary file as a draft set; publish it with --publish when it has no errors."""
    from geo_service.services import boundaries
    from geo_service.storage import repo

    data = _read(args.file)
    mapping = _read(args.mapping) if args.mapping else None
    _settings, storage = _storage()
    step, close = _progress(_STEPS)
    try:
        with storage.transaction() as session:
            bset = boundaries.import_boundaries(
                session, data=data, filename=Path(args.file).name, level=args.level, actor="cli",
                code_field=args.code_field, name_field=args.name_field, parent_field=args.parent_field,
                source_crs=args.crs, mapping_csv=mapping, name=args.name, progress=step, source="cli",
            )
            set_id, report = bset.id, dict(bset.report or {})
            summary = boundaries.set_summary(bset, repo.count_units(session, bset.id), repo.get_generation(session)[1])
    finally:
        close()
    if args.json:
        print(json.dumps({**summary, "report": report}, ensure_ascii=False, indent=1))
    else:
        print(f"boundary set {set_id} ({summary['status']}): {summary['units']} units, "
              f"{summary['errors']} errors, {summary['warnings']} warnings")
        _print_report(report, args.limit)
    if args.publish:
        generation = _publish_boundaries(storage, set_id)  # SET_HAS_ERRORS -> exit status 1
        print(f"boundary set {set_id} published (generation {generation})")
    return 0


def cmd_boundaries_list(args: argparse.Namespace) -> int:
    """Every boundary set, newest first."""
    from geo_service.services import boundaries
    from geo_service.storage import repo

    _settings, storage = _storage()
    with storage.session() as session:
        published = repo.get_generation(session)[1]
        sets = [boundaries.set_summary(s, n, published) for s, n in repo.list_boundary_sets(session)]
    if args.json:
        print(json.dumps({"published": published, "sets": sets}, ensure_ascii=False, indent=1))
        return 0
    print(f"{'id':>4}  {'status':9}  {'units':>5}  {'err':>4}  {'warn':>5}  {'created':16}  name")
    for s in sets:
        print(f"{s['id']:>4}  {s['status']:9}  {s['units']:>5}  {s['errors']:>4}  {s['warnings']:>5}  "
              f"{s['created_at'][:16]:16}  {s['name']}")
    return 0


def cmd_boundaries_publish(args: argparse.Namespace) -> int:
    """Publish a set (re-publishing an older one is the rollback)."""
    _settings, storage = _storage()
    generation = _publish_boundaries(storage, args.id)
    print(f"boundary set {args.id} published (generation {generation})")
    return 0


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
    from geo_service.storage import repo

    data = _read(args.file)
    _settings, storage = _storage()
    with storage.transaction() as session:
        sset = boundaries.import_stations(session, data=data, filename=Path(args.file).name, actor="cli",
                                          name=args.name)
        set_id, report = sset.id, dict(sset.report or {})
        summary = boundaries.station_set_summary(sset, len(repo.load_stations(session, sset.id)),
                                                 repo.get_generation(session)[2])
    if args.json:
        print(json.dumps({**summary, "report": report}, ensure_ascii=False, indent=1))
    else:
        print(f"station set {set_id} ({summary['status']}): {summary['stations']} stations, "
              f"{summary['errors']} errors, {summary['warnings']} warnings")
        _print_report(report, args.limit)
    if args.publish:
        with storage.transaction() as session:
            generation = repo.publish_station_set(session, set_id, actor="cli")
        print(f"station set {set_id} published (generation {generation})")
    return 0


def cmd_stations_list(args: argparse.Namespace) -> int:
    """Every station set, newest first."""
    from geo_service.services import boundaries
    from geo_service.storage import repo

    _settings, storage = _storage()
    with storage.session() as session:
        published = repo.get_generation(session)[2]
        sets = [boundaries.station_set_summary(s, n, published) for s, n in repo.list_station_sets(session)]
    if args.json:
        print(json.dumps({"published": published, "sets": sets}, ensure_ascii=False, indent=1))
        return 0
    print(f"{'id':>4}  {'status':9}  {'stations':>8}  {'err':>4}  name")
    for s in sets:
        print(f"{s['id']:>4}  {s['status']:9}  {s['stations']:>8}  {s['errors']:>4}  {s['name']}")
    return 0


def cmd_stations_publish(args: argparse.Namespace) -> int:
    """Publish a station set (re-publishing an older one is the rollback)."""
    from geo_service.storage import repo

    _settings, storage = _storage()
    with storage.transaction() as session:
        generation = repo.publish_station_set(session, args.id, actor="cli")
    print(f"station set {args.id} published (generation {generation})")
    return 0


# ------------------------------------------------------------------ parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--limit", type=int, default=20, help="report lines shown per severity (default 20)")


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
    p.set_defaults(func=cmd_boundaries_import)
    p = bsub.add_parser("list", help="every boundary set, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_boundaries_list)
    p = bsub.add_parser("publish", help="publish a set; publishing an older set is the rollback")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_boundaries_publish)
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
    p.set_defaults(func=cmd_stations_import)
    p = ssub.add_parser("list", help="every station set, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stations_list)
    p = ssub.add_parser("publish", help="publish a station set; re-publishing an older one is the rollback")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_stations_publish)
