"""Sub-commands ``geo-service demo seed|clear`` and ``geo-service incidents export`` (loaded by :mod:`geo_service.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from geo_service.cli.common import load_index, settings_and_storage


def cmd_demo_seed(args: argparse.Namespace) -> int:
    """Create demo incidents (demo=True, description prefixed [DEMO]) over the current and previous week."""
    from geo_service.services import incidents

    settings, storage = settings_and_storage()
    index = load_index(storage, settings)
    with storage.transaction() as session:
        if args.replace:
            incidents.clear_demo_incidents(session)
        ids = incidents.seed_demo_incidents(session, index, count=args.count, seed=args.seed, root=args.unit)
        n_calls = _seed_demo_calls(session, index, args) if args.calls else None
    print(f"{len(ids)} demo incidents created (ids {ids[0]}..{ids[-1]})" if ids else "no demo incidents created")
    if n_calls is not None:
        print(f"{n_calls} demo calls (110) stored over the last 30 days")
    return 0


def _seed_demo_calls(session: Any, index: Any, args: argparse.Namespace) -> int:
    from geo_service.services import calls

    if args.replace:
        calls.clear_demo_calls(session)
    return calls.seed_demo_calls(session, calls.hierarchy_for(index), seed=args.seed)


def cmd_demo_clear(_args: argparse.Namespace) -> int:
    """Delete demo incidents (and their events) only."""
    from geo_service.services import incidents

    _settings, storage = settings_and_storage()
    with storage.transaction() as session:
        n = incidents.clear_demo_incidents(session, actor="cli")
        from geo_service.services import calls

        n_calls = calls.clear_demo_calls(session, actor="cli")
    print(f"{n} demo incidents deleted")
    print(f"{n_calls} demo calls deleted")
    return 0


def cmd_incidents_export(args: argparse.Namespace) -> int:
    """Export a unit's incidents of one ISO week (unit's local time) as CSV, or its recap (--recap) as CSV/JSON."""
    from geo_service.errors import NotFound
    from geo_service.geo.timezones import local_week_bounds, zone_for_unit
    from geo_service.services import incidents, recap
    from geo_service.storage.types import utcnow

    settings, storage = settings_and_storage()
    index = load_index(storage, settings)
    if args.unit not in index.units:
        raise NotFound(f"unit {args.unit!r} is not in the published boundary set", code="UNIT_NOT_FOUND")
    now = utcnow()
    with storage.session() as session:
        if args.recap:
            data = recap.weekly_recap(session, index, unit_code=args.unit, week=args.week, now=now,
                                      overdue_minutes=settings.overdue_minutes)
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n" if args.format == "json" \
                else recap.recap_csv(data)
        else:
            year, week = recap.resolve_week(args.week, args.unit, now)
            start, end = local_week_bounds(year, week, zone_for_unit(args.unit))
            query = incidents.IncidentQuery(unit=args.unit, date_from=start, date_to=end)
            rows = list(incidents.iter_incidents(session, query, now=now, overdue_minutes=settings.overdue_minutes))
            if args.format == "json":
                items = [incidents.incident_to_dict(r, index, now=now, overdue_minutes=settings.overdue_minutes)
                         for r in rows]
                text = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
            else:
                text = incidents.incidents_csv(rows, index, now=now, overdue_minutes=settings.overdue_minutes)
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        print(f"written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers: Any) -> None:
    """Add ``demo`` and ``incidents`` to the ``geo-service`` parser."""
    p = subparsers.add_parser("demo", help="demo incidents (marked demo=True, description '[DEMO] ...')")
    dsub = p.add_subparsers(dest="demo_command", required=True)
    d = dsub.add_parser("seed", help="create ~60 demo incidents over the current and previous ISO week")
    d.add_argument("--count", type=int, default=60)
    d.add_argument("--seed", type=int, default=110, help="random seed (same seed and week: same data)")
    d.add_argument("--unit", default="51", help="spread over the units below this one (default: Polda Bali)")
    d.add_argument("--replace", action="store_true", help="delete earlier demo incidents first")
    d.add_argument("--calls", action="store_true", help="also a month of demo 110 calls for every Polda (Anev 110)")
    d.set_defaults(func=cmd_demo_seed)
    d = dsub.add_parser("clear", help="delete demo incidents and their events only")
    d.set_defaults(func=cmd_demo_clear)

    p = subparsers.add_parser("incidents", help="incident log")
    isub = p.add_subparsers(dest="incidents_command", required=True)
    e = isub.add_parser("export", help="export a unit's incidents (or recap) for an ISO week, in its local time")
    e.add_argument("--week", default=None, help="YYYY-Www (default: the current week)")
    e.add_argument("--unit", required=True, help="unit code, e.g. 51 or 51.71")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--recap", action="store_true", help="export the weekly recap instead of the incidents")
    e.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    e.set_defaults(func=cmd_incidents_export)
