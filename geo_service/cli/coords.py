"""Sub-commands ``geo-service coords check`` and ``geo-service locate`` (loaded by :mod:`geo_service.cli`).

Both read a CSV with a header naming either a ``text`` column or ``lat`` and ``lon`` columns
(optional ``crs``, ``uncertainty_m``, ``hint_unit``; other columns are copied through) and
write the input columns followed by the answer columns, one output row per input row, in
order. They call the same services as ``POST /api/v1/coordinates/validate/batch`` and
``POST /api/v1/locate/batch``; a progress bar (stderr) shows on files of
:data:`~geo_service.cli.common.PROGRESS_MIN_ROWS` rows or more.

``locate --engine postgis`` answers the jurisdiction questions in SQL (``ST_Covers`` on the
published set, in chunks of :data:`~geo_service.services.batch.CHUNK` points) instead of the
in-memory index, with the same columns. It has no uncertainty circles: its ``match`` is
``inside``, ``nearest`` (at sea, within the coastal band) or ``none``, never ``border``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from geo_service.cli.common import load_index, row_progress, settings_and_storage


def _read_frame(path: str) -> Any:
    from geo_service.errors import InvalidInput
    from geo_service.services import batch

    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}", code="FILE_UNREADABLE") from None
    return batch.read_csv_frame(data)


@contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        yield fh


def _write_chunks(chunks: Iterator[str], output: str) -> None:
    with _output(output) as fh:
        for chunk in chunks:
            fh.write(chunk)


def cmd_coords_check(args: argparse.Namespace) -> int:
    """Validate every row of a CSV: adds status, lat, lon, format, uncertainty_m, confidence, flags."""
    from geo_service.services import batch

    frame = _read_frame(args.input)
    settings, storage = settings_and_storage()
    index = load_index(storage, settings)
    with row_progress(len(frame), "coords check", not args.quiet) as update:
        _write_chunks(batch.validate_csv_chunks(frame, index, args.lang, progress=update), args.output)
    _done(len(frame), args.output)
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    """Locate every row of a CSV: adds status, lat, lon, format, match, unit codes, distance, flags."""
    from geo_service.errors import ConfigError
    from geo_service.services import batch

    frame = _read_frame(args.input)
    settings, storage = settings_and_storage()
    if args.engine == "postgis" and settings.backend != "postgresql":
        raise ConfigError("--engine postgis needs GEO_SERVICE_DATABASE_URL to point at PostgreSQL/PostGIS")
    index = load_index(storage, settings)
    with row_progress(len(frame), f"locate ({args.engine})", not args.quiet) as update:
        if args.engine == "memory":
            chunks = batch.locate_csv_chunks(frame, index, args.lang, progress=update)
        else:
            chunks = postgis_csv_chunks(frame, index, storage, args.lang, progress=update)
        _write_chunks(chunks, args.output)
    _done(len(frame), args.output)
    return 0


def _done(rows: int, output: str) -> None:
    if output != "-":
        print(f"{rows} rows written to {output}", file=sys.stderr)


def postgis_csv_chunks(frame: Any, index: Any, storage: Any, lang: str,
                       progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """Like :func:`~geo_service.services.batch.locate_csv_chunks`, with the jurisdiction from PostGIS."""
    import csv
    import io

    from msgspec.structs import replace

    from geo_service.errors import GeoServiceError
    from geo_service.services import batch
    from geo_service.services.answers import CompactLocate
    from geo_service.services.locate import jurisdiction_of, validate_location, validation_answer
    from geo_service.storage import spatial

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(batch.csv_output_header(frame))
    columns = list(frame.columns)
    inputs = frame.to_numpy(dtype=object).tolist()
    set_id = index.set_id
    with storage.session() as session:
        for start in range(0, len(inputs), batch.CHUNK):
            rows = inputs[start:start + batch.CHUNK]
            records: list[CompactLocate] = []
            points: list[tuple[int, float, float]] = []
            for k, values in enumerate(rows):
                try:
                    result = validate_location(batch.row_body(dict(zip(columns, values, strict=True))), index)
                except GeoServiceError as exc:
                    records.append(batch.error_record(exc))
                    continue
                d = validation_answer(result, lang)
                records.append(CompactLocate(d.status, d.point, d.format, "none", None, None, d.confidence,
                                             [f.code for f in d.flags]))
                if result.point is not None:
                    points.append((k, result.point[0], result.point[1]))
            codes = spatial.locate_codes_sql(session, set_id, [p[1] for p in points], [p[2] for p in points]) \
                if points else []
            for (k, lon, lat), code in zip(points, codes, strict=True):
                rec = records[k]
                if code is not None:
                    records[k] = replace(rec, match="inside", distance_m=0.0, jurisdiction=jurisdiction_of(index.chain(code)))
                    continue
                nearest = spatial.nearest_code_sql(session, set_id, lon, lat)
                if nearest is None:
                    continue
                near_code, dist = nearest
                if dist <= index.coastal_band_m:
                    rec = replace(rec, match="nearest", jurisdiction=jurisdiction_of(index.chain(near_code)))
                    flag = "AT_SEA"
                else:
                    flag = "OUTSIDE_SERVICE_AREA"
                records[k] = replace(rec, distance_m=dist, flags=rec.flags if flag in rec.flags else [*rec.flags, flag])
            for values, rec in zip(rows, records, strict=True):
                writer.writerow([*values, *batch.csv_answer_cells(rec)])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if progress is not None:
                progress(len(rows))


def register(subparsers: Any) -> None:
    """Add ``coords check`` and ``locate`` to the ``geo-service`` parser."""
    p = subparsers.add_parser("coords", help="coordinate files")
    csub = p.add_subparsers(dest="coords_command", required=True)
    c = csub.add_parser("check", help="validate every row of a CSV (text, or lat,lon [+ crs, uncertainty_m, "
                                      "hint_unit]); adds status, lat, lon, ..., flags columns")
    c.add_argument("input", help="input CSV ('-' for stdin)")
    c.add_argument("-o", "--output", default="-", help="output CSV (default: stdout)")
    c.add_argument("--lang", choices=["id", "en"], default="id")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_coords_check)

    p = subparsers.add_parser("locate", help="locate every row of a CSV (text, or lat,lon [+ crs, uncertainty_m, "
                                             "hint_unit]): responsible Polda/Polres/Polsek per row")
    p.add_argument("input", help="input CSV ('-' for stdin)")
    p.add_argument("-o", "--output", default="-", help="output CSV (default: stdout)")
    p.add_argument("--engine", choices=["memory", "postgis"], default="memory",
                   help="memory: the in-memory index, vectorised (default); postgis: ST_Covers in the database")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_locate)
