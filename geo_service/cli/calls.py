"""Sub-commands ``geo-service calls import FILE.csv`` and ``geo-service calls report`` (issue 16; loaded by :mod:`geo_service.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

MAX_ERRORS_SHOWN = 50


def _count_rows(path: str) -> int:
    with open(path, "rb") as fh:
        return max(0, sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b"")) - 1)


def cmd_calls_import(args: argparse.Namespace) -> int:
    """Import a CSV of 110 calls in one transaction (a crash stores nothing), with a progress bar."""
    from geo_service.cli.common import load_index, row_progress, settings_and_storage
    from geo_service.services import calls

    settings, storage = settings_and_storage()
    hierarchy = calls.hierarchy_for(load_index(storage, settings))
    with row_progress(_count_rows(args.file), "calls", not args.quiet) as update, storage.transaction() as session:
        result = calls.import_calls_file(session, args.file, hierarchy, actor="cli", progress=update)
    for err in result.errors[:MAX_ERRORS_SHOWN]:
        print(f"line {err['row']}: {err['column']}: {err['detail']}", file=sys.stderr)
    if len(result.errors) > MAX_ERRORS_SHOWN:
        print(f"... and {len(result.errors) - MAX_ERRORS_SHOWN} more problems", file=sys.stderr)
    summary = result.to_dict()
    print(f"{summary['rows']} rows: {summary['created']} created, {summary['updated']} updated, "
          f"{summary['rejected']} rejected")
    return 1 if summary["rejected"] and not (summary["created"] or summary["updated"]) else 0


def cmd_calls_report(args: argparse.Namespace) -> int:
    """Print the Anev 110 report of a unit (JSON, CSV or XLSX to a file)."""
    from geo_service.cli.common import load_index, settings_and_storage
    from geo_service.services import calls
    from geo_service.storage.types import utcnow

    settings, storage = settings_and_storage()
    index = load_index(storage, settings)
    period = {k: v for k, v in (("from", args.date_from), ("to", args.date_to), ("week", args.week),
                                ("month", args.month)) if v}
    with storage.session() as session:
        report = calls.report_for(session, index, settings, unit=args.unit, scope=None, args=period, now=utcnow())
    if args.format == "xlsx":
        if not args.output or args.output == "-":
            print("geo-service: --output FILE is required for xlsx", file=sys.stderr)
            return 2
        with open(args.output, "wb") as fh:
            fh.write(calls.report_xlsx(report))
        return 0
    text = calls.report_csv(report) if args.format == "csv" else json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers: Any) -> None:
    """Add ``calls`` to the ``geo-service`` parser."""
    p = subparsers.add_parser("calls", help="110 call records and the Call Center evaluation (Anev)")
    csub = p.add_subparsers(dest="calls_command", required=True)
    i = csub.add_parser("import", help="import a CSV of calls (idempotent by call_id; one transaction)")
    i.add_argument("file")
    i.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    i.set_defaults(func=cmd_calls_import)
    r = csub.add_parser("report", help="the Anev 110 report of a unit for whole local days")
    r.add_argument("--unit", default="MABES", help="unit code (default MABES: national)")
    r.add_argument("--from", dest="date_from", default=None, help="first day YYYY-MM-DD (with --to)")
    r.add_argument("--to", dest="date_to", default=None, help="last day YYYY-MM-DD, inclusive")
    r.add_argument("--week", default=None, help="YYYY-Www")
    r.add_argument("--month", default=None, help="YYYY-MM")
    r.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    r.add_argument("--output", "-o", default="-")
    r.set_defaults(func=cmd_calls_report)
