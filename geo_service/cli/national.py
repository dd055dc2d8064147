"""Sub-command ``geo-service national load`` (loaded by :mod:`geo_service.cli`): the national boundary set.

::

    geo-service national load [--data-dir boundaries/] [--publish]
                              [--keep-province 51 ...] [--national-only] [--fine-from bundled|published]
                              [--skip-kecamatan-checks] [--name NAME] [--on DAY] [--no-history]

Builds Polda/Polres/Polsek for all of Indonesia from the three national files, keeps the
provinces named by ``--keep-province`` (default 51, Bali) from the finer set, checks the result
and stores it as a draft set (published with ``--publish``): by default one set per structure
version (``--history``, :func:`~geo_service.services.national.load_national_history`), oldest
first, so ``at`` lookups answer history; ``--no-history`` (or ``--on DAY``) stores one. When the ``boundaries`` command
group exists, the same command is also ``geo-service boundaries load-national``. The rules are
in :mod:`geo_service.services.national`.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from geo_service.cli.common import command_group, settings_and_storage, step_progress
from geo_service.geo.bundled import BOUNDARIES_DIR

DEFAULT_DATA_DIR = str(BOUNDARIES_DIR)  # the national files ship in boundaries/


def cmd_national_load(args: argparse.Namespace) -> int:
    """Build, check and store (and optionally publish) the national set."""
    from geo_service.services import national
    from geo_service.services.bootstrap import ensure_bundled

    settings, storage = settings_and_storage()
    ensure_bundled(storage, settings)
    keep = () if args.national_only else tuple(args.keep_province or national.DEFAULT_KEEP_PROVINCES)
    history = args.history and args.on is None
    versions = len(national.history_days()) if history else 1
    step, close = step_progress(versions * (len(national.STEPS) + 1) + (1 if args.publish else 0))
    options = {"data_dir": Path(args.data_dir), "actor": "cli", "keep_provinces": keep, "fine_from": args.fine_from,
               "kecamatan_checks": not args.skip_kecamatan_checks, "publish": args.publish, "name": args.name,
               "progress": step}
    try:
        with storage.transaction() as session:
            if history:
                loaded = national.load_national_history(session, **options)
            else:
                loaded = [national.load_national(session, on=args.on, **options)]
            ids = [bset.id for bset, _built, _generation in loaded]
    finally:
        close()
    for set_id, (bset, built, generation) in zip(ids, loaded, strict=True):
        if len(loaded) > 1:
            print(f"--- structure from {bset.effective_from.date().isoformat() if bset.effective_from else '?'}")
        _print_summary(set_id, built, generation)
    return 0 if not any(built.report.has_errors for _b, built, _g in loaded) else 1


def _print_summary(set_id: int, built: Any, generation: int | None) -> None:
    from geo_service.services.national import summarise_report

    levels: dict[str, int] = {}
    for u in built.units:
        levels[u.level] = levels.get(u.level, 0) + 1
    kept = ", ".join(built.kept_provinces) or "none (national everywhere)"
    print(f"boundary set {set_id}: {len(built.units)} units "
          f"({', '.join(f'{n} {lvl}' for lvl, n in levels.items())}); provinces from the finer set: {kept}")
    _stored, summary = summarise_report(built.report, built.units)
    print(f"{'level':8} {'overlaps':>9} {'km²':>10} {'gaps':>7} {'km²':>10} {'outside parent':>15} {'km²':>10}")
    for level, row in summary.items():
        print(f"{level:8} {int(row.get('overlaps', 0)):>9} {row.get('overlaps_km2', 0.0):>10,.1f} "
              f"{int(row.get('gaps', 0)):>7} {row.get('gaps_km2', 0.0):>10,.1f} "
              f"{int(row.get('children_outside_parent', 0)):>15} {row.get('children_outside_parent_km2', 0.0):>10,.1f}")
    for item in built.report.errors[:20]:
        print(f"ERROR {item.code}: {item.message}")
    for item in built.report.infos:
        if item.code in ("FINE_SET_CLIPPED", "FINE_PROVINCES_KEPT", "KECAMATAN_CHECKS_SKIPPED"):
            print(f"info {item.code}: {item.message}")
    timings = ", ".join(f"{k} {v:.1f}" for k, v in built.timings_s.items())
    print(f"timings (s): {timings}")
    if generation is not None:
        print(f"published: generation {generation}; running workers reload within reload_interval_s")
    elif built.report.has_errors:
        print("the set has errors and cannot be published")
    else:
        print(f"draft stored; publish with: geo-service national load --publish, or POST "
              f"/api/v1/boundary-sets/{set_id}/publish")


def _add_load_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                   help="folder with indonesia_provinsi/_kabupaten_kota/_kecamatan.geojson (default %(default)s)")
    p.add_argument("--publish", action="store_true", help="publish the set when its report has no errors")
    p.add_argument("--keep-province", action="append", metavar="CODE",
                   help="province (Polda code) answered by the finer set instead of the national files; "
                        "repeatable (default: 51, Bali)")
    p.add_argument("--national-only", action="store_true",
                   help="keep no province from the finer set: the national files answer everywhere")
    p.add_argument("--fine-from", choices=["bundled", "published"], default="bundled",
                   help="where the kept provinces come from: the bundled Bali set or the published set")
    p.add_argument("--skip-kecamatan-checks", action="store_true",
                   help="skip the overlap/gap analysis at Polsek level (Polda and Polres are always checked)")
    p.add_argument("--name", default=None, help="name of the boundary set")
    p.add_argument("--on", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="build the Polri structure in force on this day (default today); the set is dated from "
                        "the first day of that structure, so loading past days gives 'at' lookups their history")
    p.add_argument("--history", action=argparse.BooleanOptionalAction, default=True,
                   help="one set per structure version since 2016-05-03, each dated from its first day, so 'at' "
                        "lookups answer history (default); --no-history stores today's only (ignored with --on)")
    p.set_defaults(func=cmd_national_load)


def register(subparsers: Any) -> None:
    """Add ``national load`` (and ``boundaries load-national`` when that group exists)."""
    p = subparsers.add_parser("national", help="the national boundary set (all of Indonesia)")
    nsub = p.add_subparsers(dest="national_command", required=True)
    _add_load_arguments(nsub.add_parser(
        "load", help="build Polda/Polres/Polsek for all of Indonesia, keep Bali fine, check and store"))
    if "boundaries" in subparsers.choices:
        group = command_group(subparsers, "boundaries", "boundary sets")
        _add_load_arguments(group.add_parser("load-national", help="same as: geo-service national load"))
