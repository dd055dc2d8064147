"""Use case "Call Center 110 evaluation" (Anev, issue 16): call records in, answer rates out.

Call records
    One row per call: ``call_id`` (the key: importing again updates, never duplicates),
    ``started_at``, ``answered_at`` (empty = not answered), ``ended_at`` (ISO 8601 with a UTC
    offset), ``answered_by`` (unit code, empty when nobody answered), ``routed_to`` (the unit
    lines the call rang, in order, ``;``-separated: a Polres line overflows to the Polda, then
    to Mabes), ``caller_unit`` (optional), ``outcome`` (:data:`OUTCOMES`), ``incident_id``
    (optional). Every bad row is reported with its line, column and reason; good rows are kept;
    the good rows of one file are written in one transaction with bulk statements.

Unit hierarchy
    Parents come from the published boundary set; the national root ``MABES`` ("Mabes Polri",
    level ``mabes``) is the parent of every Polda whether or not the set holds it. The units of
    the Polri structure in force (``boundaries/police_structure.csv``, every Polda and the
    Polres/Polsek it lists) that the set does not hold are added under their parents: calls
    ring every Polda's line whether or not its polygons are published (Bali only by default),
    and the national ranking is of every Polda.

Counting rules (who a call counts for)
    * A call counts as *offered* to the unit whose line it rang first (``routed_to[0]``) and to
      every unit above it.
    * It counts as *answered* for such a unit only when the unit that answered is that unit or
      below it: a call a Polres did not answer is ``not_answered`` for that Polres even when the
      Polda answered it after overflow (and answered for the Polda).
    * ``answer_rate`` = answered / offered (0..1, 4 decimals; null when nothing was offered);
      ``answered_within_s`` = share of the offered calls answered within 10, 15 and 20 s (the
      NENA / NFPA yardsticks); ``overflow`` = offered calls answered higher up than the first
      unit they rang (``answered_by`` is not ``routed_to[0]``; an unanswered call is not overflow),
      ``overflow_share`` = overflow / offered; ``answered_above`` = offered calls answered by a
      unit above (outside) this one.
    * Times are whole seconds from the first ring. Medians follow ``statistics.median`` (mean of
      the two middle values); p90 is the nearest rank (the value at rank ceil(0.9 n)).
    * Periods are whole local days of the report unit (``geo.timezones``; Mabes: WIB):
      ``from``..``to`` inclusive, an ISO ``week`` or a ``month``; a call belongs to the period
      of its ``started_at``.
    * Children: the units directly below; for Mabes the Polda *and* Mabes' own line (calls that
      rang Mabes first, code ``MABES``), ranked together. Ranks: by volume (offered, descending)
      and by not answered (descending); ties by unit code.
"""

from __future__ import annotations

import calendar
import csv
import io
import logging
import math
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from geo_service.config import Settings, parse_response_targets
from geo_service.errors import BadRequest, Forbidden, InvalidInput, NotFound
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.timezones import WIB_JAKARTA, LocalZone, parse_iso_week, zone_for_unit
from geo_service.services import call_rows
from geo_service.services.incidents import csv_safe, incident_in_scope
from geo_service.services.structure import StructureRow, read_structure, rows_in_force
from geo_service.storage import calls as store
from geo_service.storage.incidents import incidents_by_id
from geo_service.storage.repo import audit
from geo_service.storage.types import utcnow

LOGGER = logging.getLogger(__name__)

MABES = "MABES"
MABES_NAME = "Mabes Polri"
OUTCOMES = ("emergency", "information", "complaint", "prank", "silent", "misdial", "abandoned", "test")
COLUMNS = ("call_id", "started_at", "answered_at", "ended_at", "answered_by", "routed_to", "caller_unit",
           "outcome", "incident_id")
REQUIRED_COLUMNS = ("call_id", "started_at", "answered_at", "ended_at", "answered_by", "routed_to", "outcome")
MAX_CALL_ID = 80
MAX_ROUTED = 10
MAX_ROUTED_CHARS = 400
MAX_CALL_S = 86_400
TOP_N = 5
DEMO_PREFIX = "DEMO-"
_OFFSET_RE = r"(?:Z|z|[+-]\d{2}:?\d{2})$"


# ------------------------------------------------------------------ hierarchy


@dataclass(frozen=True)
class UnitNode:
    """A unit of the hierarchy the figures roll up (MABES at the top)."""

    code: str
    name: str
    level: str
    parent: str | None


class Hierarchy:
    """Parent/child relations of the published units with ``MABES`` as the root above every Polda."""

    def __init__(self, nodes: Mapping[str, UnitNode]) -> None:
        self.nodes = dict(nodes)
        self._children: dict[str, list[str]] = defaultdict(list)
        for node in self.nodes.values():
            if node.parent is not None:
                self._children[node.parent].append(node.code)
        for kids in self._children.values():
            kids.sort()
        self._ancestors: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_index(cls, index: JurisdictionIndex, structure: Iterable[StructureRow] = ()) -> Hierarchy:
        """The published set's units, then the ``structure`` rows (in force) whose code the set does not hold;
        a top unit that is not MABES gets MABES as parent."""
        given = {code: (unit.name, unit.level, unit.parent_code) for code, unit in index.units.items()}
        for row in structure:
            given.setdefault(row.code, (row.name, row.level, row.parent_code))
        nodes: dict[str, UnitNode] = {}
        for code, (name, level, parent) in given.items():
            if code != MABES and (parent is None or parent not in given):
                parent = MABES
            nodes[code] = UnitNode(code, name, level, None if code == MABES else parent)
        if MABES not in nodes:
            nodes[MABES] = UnitNode(MABES, MABES_NAME, "mabes", None)
        return cls(nodes)

    def __contains__(self, code: object) -> bool:
        return code in self.nodes

    def node(self, code: str) -> UnitNode:
        """The unit, or NotFound."""
        try:
            return self.nodes[code]
        except KeyError:
            raise NotFound(f"unit {code!r} is not in the published boundary set", code="UNIT_NOT_FOUND") from None

    def children(self, code: str) -> list[str]:
        """Codes of the units directly below, in code order."""
        return self._children.get(code, [])

    def ancestors(self, code: str) -> tuple[str, ...]:
        """``code`` and every unit above it up to MABES (an unknown code sits directly under MABES)."""
        hit = self._ancestors.get(code)
        if hit is not None:
            return hit
        chain = [code]
        node = self.nodes.get(code)
        parent = node.parent if node is not None else (None if code == MABES else MABES)
        while parent is not None and parent not in chain:
            chain.append(parent)
            up = self.nodes.get(parent)
            parent = up.parent if up is not None else None
        result = tuple(chain)
        self._ancestors[code] = result
        return result

    def subtree(self, code: str) -> set[str]:
        """``code`` and every unit below it."""
        out, todo = set(), [code]
        while todo:
            c = todo.pop()
            out.add(c)
            todo.extend(self.children(c))
        return out

    def within(self, code: str | None, scope: str | None) -> bool:
        """True when ``code`` is the scope unit or below it (``scope=None`` or MABES: everything)."""
        if scope is None or scope == MABES:
            return True
        return code is not None and scope in self.ancestors(code)

    def zone(self, code: str) -> LocalZone:
        """The unit's local zone: its Polda's province; Mabes keeps WIB (Jakarta)."""
        for c in self.ancestors(code):
            if c == MABES:
                break
            try:
                return zone_for_unit(c)
            except KeyError:
                continue
        return WIB_JAKARTA


_HIERARCHY_CACHE: list[tuple[JurisdictionIndex, date, Hierarchy]] = []


def structure_in_force(on: date) -> list[StructureRow]:
    """The rows of the Polri structure file in force on ``on`` (none, with a warning, when it cannot be read)."""
    try:
        return rows_in_force(read_structure(), on)
    except (OSError, InvalidInput, KeyError, ValueError) as exc:
        LOGGER.warning("police structure not read, reports know the published units only: %s", exc)
        return []


def hierarchy_for(index: JurisdictionIndex, *, now: datetime | None = None) -> Hierarchy:
    """The hierarchy of an index with the structure in force today (a Mabes/WIB day), built once per published
    index and day (kept for the last one)."""
    today = (now or utcnow()).astimezone(WIB_JAKARTA.tz).date()
    if _HIERARCHY_CACHE and _HIERARCHY_CACHE[0][0] is index and _HIERARCHY_CACHE[0][1] == today:
        return _HIERARCHY_CACHE[0][2]
    built = Hierarchy.from_index(index, structure_in_force(today))
    _HIERARCHY_CACHE[:] = [(index, today, built)]
    return built


def effective_report_unit(hierarchy: Hierarchy, requested: str | None, scope: str | None) -> str:
    """The unit to report on: the requested one within the caller's scope (403 outside); default the scope
    or MABES."""
    if requested is None:
        return scope or MABES
    hierarchy.node(requested)
    if not hierarchy.within(requested, scope):
        raise Forbidden(f"unit {requested!r} is outside your unit {scope!r}", code="OUT_OF_SCOPE")
    return requested


# ------------------------------------------------------------------ parsing and import


@dataclass
class ImportResult:
    """What an import did: rows read, created, updated, and every bad row with its reason."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "rejected": len({e["row"] for e in self.errors}), "errors": self.errors}


#: Columns whose values repeat (unit codes, routes, outcomes): checked once per distinct value.
_FEW_VALUES = ("answered_by", "routed_to", "caller_unit", "outcome", "incident_id")
_OFFSET_TAIL = re.compile(_OFFSET_RE)
_SPACE = re.compile(r"\s")
_INCIDENT_ID = re.compile(r"[1-9][0-9]{0,8}")  # ASCII digits: \d would take "1٢", which to_numeric drops


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    df = frame[list(COLUMNS)].fillna("").astype(str)
    for col in COLUMNS:
        if col in _FEW_VALUES:
            df[col] = _per_distinct(df[col], str.strip)
        elif _SPACE.search("".join(df[col].to_numpy(dtype=object))):  # one C scan: most files have no space
            df[col] = df[col].str.strip()
    return df


def _per_distinct(texts: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """``fn`` of every text, computed once per distinct text (Python runs a few thousand times for a month of
    routes, not once per call)."""
    codes, uniques = pd.factorize(texts)
    return pd.Series(_objects(fn(text) for text in uniques)[codes], index=texts.index, dtype=object)


def _objects(values: Iterable[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (``np.array`` would read a list of tuples as 2-D)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    for k, value in enumerate(items):
        out[k] = value
    return out


def _has_offset(text: str) -> bool:
    return _OFFSET_TAIL.search(text) is not None


def _parse_times(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(UTC times, ok mask) of ISO 8601 texts that carry an offset; empty texts -> NaT and not ok."""
    # An offset is at most the last 6 characters: the regex runs once per distinct tail, not per row.
    has_offset = _per_distinct(texts.str[-6:], _has_offset).astype(bool)
    parsed = pd.to_datetime(texts.where(has_offset, None), format="ISO8601", utc=True, errors="coerce")
    return parsed, has_offset & parsed.notna()


@dataclass(frozen=True)
class _Route:
    """A ``routed_to`` text read once: its unit codes and what is wrong with them, in report order."""

    codes: tuple[str, ...]
    problems: tuple[str, ...]

    @classmethod
    def read(cls, text: str, known_units: set[str]) -> _Route:
        # Cells are already stripped; spaces inside a route ("51.71; 51") are dropped before the split.
        codes = tuple(text.replace(" ", "").strip(";").split(";")) if text.strip(" ;") else ()
        problems = []
        if "" in codes:
            problems.append("an empty unit code between ';'")
        if not codes:
            problems.append("required: the unit codes the call rang, ';'-separated")
        if len(codes) > MAX_ROUTED:
            problems.append(f"at most {MAX_ROUTED} units")
        unknown = [c for c in codes if c not in known_units]
        if unknown:
            problems.append(f"unknown unit code(s): {', '.join(unknown[:3])}")
        if len(set(codes)) != len(codes):
            problems.append("a unit appears twice")
        if len(";".join(codes)) > MAX_ROUTED_CHARS:
            problems.append(f"at most {MAX_ROUTED_CHARS} characters")
        return cls(codes, tuple(problems))


def _read_routes(texts: pd.Series, answered_by: pd.Series, known_units: set[str]) -> dict[str, pd.Series]:
    """Per row: the route's ``problems``, ``routed_to`` (joined again), ``first_unit``, ``rang_count`` and
    whether ``answered_by`` is one of its codes; every distinct route and (answerer, route) pair is read once."""
    route_ids, route_texts = pd.factorize(texts)
    routes = [_Route.read(text, known_units) for text in route_texts]
    by_ids, by_texts = pd.factorize(answered_by)
    n_routes = max(len(routes), 1)
    pairs, inverse = np.unique(by_ids.astype(np.int64) * n_routes + route_ids, return_inverse=True)
    by_in_route = np.array([by_texts[p // n_routes] in routes[p % n_routes].codes for p in pairs], dtype=bool)

    def per_row(values: Iterable[Any]) -> pd.Series:
        return pd.Series(_objects(values)[route_ids], index=texts.index, dtype=object)

    return {
        "problems": per_row([r.problems for r in routes]),
        "routed_to": per_row([";".join(r.codes) for r in routes]),
        "first_unit": per_row([r.codes[0] if r.codes else None for r in routes]),
        "rang_count": per_row([len(r.codes) for r in routes]),
        "by_in_route": pd.Series(by_in_route[inverse], index=texts.index, dtype=bool),
    }


def validate_frame(frame: pd.DataFrame, known_units: set[str], *, label: Any,
                   seen: set[str] | None = None, dup: np.ndarray | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Check every row (vectorised); returns the good rows as model values and the errors.

    ``label(i)`` names row ``i`` in an error (a CSV line number or a JSON pointer prefix); ``seen``
    holds the call ids of earlier chunks of the same file (updated here). ``dup``: which rows repeat a
    call id of an earlier row of the file, when the caller knows it (the rows are a selection of a chunk);
    ``seen`` is then not used.
    """
    df = _clean(frame)
    n = len(df)
    bad: dict[int, list[tuple[str, str]]] = defaultdict(list)

    def flag(mask: pd.Series, column: str, reason: str) -> None:
        for i in mask[mask].index:
            bad[int(i)].append((column, reason))

    flag(df.call_id == "", "call_id", "required")
    for col in ("call_id", "answered_by", "routed_to", "caller_unit", "outcome"):
        if "\x00" in "".join(df[col].to_numpy(dtype=object)):  # one C scan; per row only when needed
            flag(df[col].str.contains("\x00", regex=False), col, "contains a NUL character")
    flag(df.call_id.str.len() > MAX_CALL_ID, "call_id", f"at most {MAX_CALL_ID} characters")
    if dup is None:
        dup = duplicate_ids(df.call_id.to_numpy(dtype=object), seen)
    flag(pd.Series(dup, index=df.index), "call_id", "the same call_id appears earlier in this batch")
    started, ok_start = _parse_times(df.started_at)
    flag(~ok_start, "started_at", "required: ISO 8601 date-time with a UTC offset, e.g. 2026-11-02T08:15:00+08:00")
    ended, ok_end = _parse_times(df.ended_at)
    flag(~ok_end, "ended_at", "required: ISO 8601 date-time with a UTC offset")
    has_answer = df.answered_at != ""
    answered, ok_ans = _parse_times(df.answered_at)
    flag(has_answer & ~ok_ans, "answered_at", "not an ISO 8601 date-time with a UTC offset (leave empty if unanswered)")
    flag(ok_start & ok_ans & (answered < started), "answered_at", "before started_at")
    flag(ok_start & ok_end & (ended < started), "ended_at", "before started_at")
    flag(ok_ans & ok_end & (ended < answered), "ended_at", "before answered_at")
    day = pd.Timedelta(seconds=MAX_CALL_S)
    flag(ok_start & ok_ans & (answered - started > day), "answered_at", "more than a day after started_at")
    flag(ok_start & ok_end & (ended - started > day), "ended_at", "more than a day after started_at")
    flag(~df.outcome.isin(OUTCOMES), "outcome", f"use one of {', '.join(OUTCOMES)}")
    route = _read_routes(df.routed_to, df.answered_by, known_units)
    for i in route["problems"][route["problems"].map(len) > 0].index:
        bad[int(i)].extend(("routed_to", why) for why in route["problems"][i])
    has_by = df.answered_by != ""
    flag(has_answer & ~has_by, "answered_by", "required when answered_at is given")
    flag(~has_answer & has_by, "answered_at", "required when answered_by is given")
    by_in_route = route["by_in_route"]
    by_known = _per_distinct(df.answered_by, known_units.__contains__).astype(bool)
    flag(has_by & ~by_known, "answered_by", "unknown unit code")
    flag(has_by & by_known & ~by_in_route, "answered_by", "not one of the routed_to units")
    caller = df.caller_unit != ""
    flag(caller & ~_per_distinct(df.caller_unit, known_units.__contains__).astype(bool), "caller_unit",
         "unknown unit code")
    inc = df.incident_id != ""
    flag(inc & ~_per_distinct(df.incident_id, _INCIDENT_ID.fullmatch).notna(), "incident_id",
         "a positive integer (or empty)")

    errors = [{"row": label(i), "column": col, "detail": why} for i in sorted(bad) for col, why in bad[i]]
    good = ~df.index.isin(list(bad))
    g = df[good]
    if n and not len(g):
        return pd.DataFrame(), errors
    answer_s = ((answered[good] - started[good]).dt.total_seconds() // 1)
    values = pd.DataFrame({
        "call_id": g.call_id,
        "started_at": started[good],
        "answered_at": answered[good],
        "ended_at": ended[good],
        "answer_s": answer_s,
        "answered_by": g.answered_by.where(g.answered_by != "", None),
        "routed_to": route["routed_to"][good],
        "first_unit": route["first_unit"][good],
        "rang_count": route["rang_count"][good].astype(np.int64),
        "caller_unit": g.caller_unit.where(g.caller_unit != "", None),
        "outcome": g.outcome,
        "incident_id": pd.to_numeric(g.incident_id.where(g.incident_id != ""), errors="coerce"),
    })
    return values, errors


def duplicate_ids(ids: np.ndarray, seen: set[str] | None) -> np.ndarray:
    """Which of ``ids`` (cleaned call ids, file order) repeat a non-empty id of an earlier row, in these
    ``ids`` or in ``seen`` (the ids of earlier chunks; updated here)."""
    # Set lookups in C: ``isin(seen)`` would hash every id of the earlier chunks again for each chunk.
    earlier = np.fromiter(map(seen.__contains__, ids), dtype=bool, count=len(ids)) if seen else False
    series = pd.Series(ids, dtype=object)
    dup = ((series.duplicated(keep="first") | earlier) & (series != "")).to_numpy(dtype=bool)
    if seen is not None:
        seen.update(ids)
        seen.discard("")
    return dup


def _drop_out_of_scope(session: Session, values: pd.DataFrame, hierarchy: Hierarchy, scope: str | None, *,
                       label: Any, errors: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows an importer scoped to ``scope`` may store: calls that rang its unit (or one below) first and
    that do not update a stored call of another unit; the others become errors (so no unit can change
    another unit's figures, nor rewrite its calls through a colliding ``call_id``), linked to no incident
    outside its unit (whose timeline would show the call as its answer)."""
    stored = store.stored_first_units(session, values["call_id"].tolist())
    linked = [int(v) for v in values["incident_id"].dropna()]
    incidents = incidents_by_id(session, linked) if linked else {}
    refused = []
    for i, call_id, first, inc in zip(values.index, values["call_id"], values["first_unit"], values["incident_id"],
                                      strict=True):
        incident = incidents.get(int(inc)) if pd.notna(inc) else None
        if not hierarchy.within(first, scope):
            column, why = "routed_to", f"the call rang {first} first, outside your unit {scope}"
        elif call_id in stored and not hierarchy.within(stored[call_id], scope):
            column, why = "call_id", f"a call of another unit (outside {scope}) has this call_id"
        elif incident is not None and not incident_in_scope(incident, scope):
            column, why = "incident_id", f"an incident outside your unit {scope}"
        else:
            continue
        refused.append(i)
        errors.append({"row": label(i), "column": column, "detail": why})
    return values.drop(index=refused)


def store_calls(session: Session, frame: pd.DataFrame, hierarchy: Hierarchy, *, label: Any, actor: str,
                demo: bool = False, request_id: str | None = None, now: datetime | None = None,
                seen: set[str] | None = None, audited: bool = True, scope: str | None = None) -> ImportResult:
    """Validate and upsert a frame of call rows (flushes; the caller's transaction makes it all or nothing).

    ``scope``: the importer's unit (None: every unit); see :func:`_drop_out_of_scope`.
    """
    values, errors = validate_frame(frame, set(hierarchy.nodes), label=label, seen=seen)
    if len(values) and not hierarchy.within(MABES, scope):
        values = _drop_out_of_scope(session, values, hierarchy, scope, label=label, errors=errors)
    result = _write_calls(session, values, errors, rows=len(frame), demo=demo, now=now or utcnow())
    if audited:
        _audit_import(session, result, actor=actor, request_id=request_id)
    session.flush()
    return result


def _write_calls(session: Session, values: pd.DataFrame, errors: list[dict], *, rows: int, demo: bool,
                 now: datetime) -> ImportResult:
    """Upsert the checked rows of one frame; the result counts the frame's ``rows``."""
    created = 0
    if len(values):
        values["demo"] = demo
        values["updated_at"] = pd.Timestamp(now)
        created = store.upsert_calls(session, values)
    return ImportResult(rows=rows, created=created, updated=len(values) - created, errors=errors)


def _audit_import(session: Session, result: ImportResult, *, actor: str, request_id: str | None) -> None:
    audit(session, actor=actor, action="calls.import", target_type="calls",
          detail={"rows": result.rows, "created": result.created, "updated": result.updated,
                  "rejected": len({e["row"] for e in result.errors})}, request_id=request_id)


def import_calls_file(session: Session, path: Any, hierarchy: Hierarchy, *, actor: str, demo: bool = False,
                      chunk_rows: int = 100_000, progress: Callable[[int], Any] | None = None,
                      now: datetime | None = None) -> ImportResult:
    """Import a (large) CSV file in chunks of ``chunk_rows`` within the caller's one transaction; ``progress``
    is called with the number of rows of each chunk (the CLI's progress bar) once it is written.

    A file of the usual shape is read by the compiled row reader (:mod:`geo_service.services.call_rows`),
    which hands every row it cannot vouch for to :func:`validate_frame`; any other file is read by pandas
    in chunks.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    now = now or utcnow()
    plain = call_rows.plain_file(Path(path).read_bytes(), COLUMNS, REQUIRED_COLUMNS) \
        if isinstance(path, (str, os.PathLike)) else None
    parts = _plain_parts(session, plain, hierarchy, demo=demo, now=now, chunk_rows=chunk_rows) \
        if plain is not None else _frame_parts(path, hierarchy, chunk_rows=chunk_rows)
    return _import_parts(session, parts, actor=actor, demo=demo, now=now, progress=progress, request_id=None)


def _import_parts(session: Session, parts: Iterator[_Part], *, actor: str, demo: bool, now: datetime,
                  progress: Callable[[int], Any] | None, request_id: str | None) -> ImportResult:
    """Write the checked chunks of an import in the caller's one transaction, audited once.

    The database writes chunk k (PostgreSQL in its own process, SQLite with the GIL released) while this
    thread reads and checks chunk k + 1: one write in flight, in file order, on the caller's session; the
    session is never used by two threads at once.
    """
    total = ImportResult()

    def collect(part: ImportResult) -> None:
        total.rows += part.rows
        total.created += part.created
        total.updated += part.updated
        total.errors.extend(part.errors)
        if progress is not None:
            progress(part.rows)

    # Leaving the block waits for a write still running, also when reading fails, so the caller's rollback
    # never meets a busy connection.
    calls_writer = store.CallWriter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="calls-import") as writer:
        writing: Future[ImportResult] | None = None
        try:
            for rows, batch, values, errors in parts:
                if writing is not None:
                    collect(writing.result())
                writing = writer.submit(_write_part, session, calls_writer, batch, values, errors, rows=rows,
                                        demo=demo, now=now)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the file is not a readable CSV: {exc}", code="CSV_UNREADABLE") from None
        if writing is not None:
            collect(writing.result())
    _audit_import(session, total, actor=actor, request_id=request_id)
    session.flush()
    return total


_Part = tuple[int, "store.CallRows | None", pd.DataFrame, list[dict[str, Any]]]  # rows, kernels' rows, frame's


def _write_part(session: Session, writer: store.CallWriter, batch: store.CallRows | None, values: pd.DataFrame,
                errors: list[dict], *, rows: int, demo: bool, now: datetime) -> ImportResult:
    """Write one chunk: the kernels' rows (``batch``) and the rows :func:`validate_frame` passed (``values``)."""
    result = _write_calls(session, values, errors, rows=rows, demo=demo, now=now)
    if batch is not None and batch.count:
        created = writer.write(session, batch)
        result.created += created
        result.updated += batch.count - created
    return result


def _frame_parts(path: Any, hierarchy: Hierarchy, *, chunk_rows: int) -> Iterator[_Part]:
    """The pandas reader: every row through :func:`validate_frame`."""
    known = set(hierarchy.nodes)
    seen: set[str] = set()
    reader = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig",
                         chunksize=chunk_rows)
    for frame in reader:
        _check_columns(frame)
        values, errors = validate_frame(frame, known, label=lambda i: i + 2, seen=seen)
        yield len(frame), None, values, errors


def _plain_parts(session: Session, file: call_rows.PlainFile, hierarchy: Hierarchy, *, demo: bool, now: datetime,
                 chunk_rows: int) -> Iterator[_Part]:
    """The compiled reader, chunk by chunk (see :mod:`geo_service.services.call_rows`)."""
    known = set(hierarchy.nodes)
    seen = call_rows.SeenIds(file)
    routes: dict[str, _Route] = {}
    form = store.bulk_format(session)
    for lo in range(0, file.rows, chunk_rows):
        hi = min(lo + chunk_rows, file.rows)
        yield (hi - lo, *_check_plain_chunk(call_rows.read_chunk(file, lo, hi), known, seen, form=form, demo=demo,
                                            now=now, routes_read=routes))


def _holds(codes: np.ndarray, per_code: Iterable[bool], empty: bool) -> np.ndarray:
    """``per_code[code]`` for every code, ``empty`` for code -1, as a bool array."""
    return np.append(np.fromiter(per_code, dtype=bool), empty)[codes]  # type: ignore[no-any-return]


def _lookup(codes: np.ndarray, per_code: Sequence[Any], empty: Any) -> np.ndarray:
    """``per_code[code]`` for every code, ``empty`` for code -1, as an object array."""
    table = np.empty(len(per_code) + 1, dtype=object)
    table[:-1] = list(per_code) if per_code else []
    table[-1] = empty
    return table[codes]


def _with_none(values: np.ndarray, present: np.ndarray) -> list[Any]:
    if present.all():
        return values.tolist()  # type: ignore[no-any-return]
    out = values.astype(object)
    out[~present] = None
    return out.tolist()  # type: ignore[no-any-return]


def _other_frame(chunk: call_rows.Chunk, positions: np.ndarray) -> pd.DataFrame:
    """The chunk's rows at ``positions`` read by pandas from their own lines (indexed by file row number)."""
    frame = pd.read_csv(io.BytesIO(chunk.file.lines(positions + chunk.lo)), dtype=str, keep_default_na=False,
                        skipinitialspace=True, encoding="utf-8-sig")
    _check_columns(frame)
    frame.index = positions + chunk.lo
    return frame


def _check_plain_chunk(chunk: call_rows.Chunk, known: set[str], seen: call_rows.SeenIds, *, form: str, demo: bool,
                       now: datetime, routes_read: dict[str, _Route] | None = None
                       ) -> tuple[store.CallRows, pd.DataFrame, list[dict[str, Any]]]:
    """The rows the kernels read plainly and that pass the per-value checks, as :class:`store.CallRows`; every
    other row through :func:`validate_frame` (its good rows and every error). ``routes_read``: the routes
    read in earlier chunks (a month's file repeats a few thousand routes in every chunk)."""
    cr = call_rows
    routes_read = {} if routes_read is None else routes_read

    def read_route(text: str) -> _Route:
        route = routes_read.get(text)
        if route is None:
            route = routes_read[text] = _Route.read(text, known)
        return route

    plain = chunk.plain.copy()
    rows = np.flatnonzero(plain)
    by, by_texts = chunk.factorize(rows, cr.ANSWERED_BY)
    route, route_texts = chunk.factorize(rows, cr.ROUTED_TO)
    caller, caller_texts = chunk.factorize(rows, cr.CALLER_UNIT)
    outcome, outcome_texts = chunk.factorize(rows, cr.OUTCOME)
    incident, incident_texts = chunk.factorize(rows, cr.INCIDENT_ID)
    routes = [read_route(text) for text in route_texts]
    ok = _holds(route, (not r.problems for r in routes), False)
    ok &= _holds(by, (t in known for t in by_texts), True)
    ok &= _holds(caller, (t in known for t in caller_texts), True)
    ok &= _holds(outcome, (t in OUTCOMES for t in outcome_texts), False)
    ok &= _holds(incident, (_INCIDENT_ID.fullmatch(t) is not None for t in incident_texts), True)
    answered = np.flatnonzero(ok & (by >= 0))
    if answered.size:
        n_routes = len(routes)
        pairs, inverse = np.unique(by[answered] * n_routes + route[answered], return_inverse=True)
        in_route = np.array([by_texts[p // n_routes] in routes[p % n_routes].codes for p in pairs], dtype=bool)
        ok[answered[~in_route[inverse]]] = False
    plain[rows[~ok]] = False
    # Duplicates over the whole file, in file order, on the ids as validate_frame cleans them.
    other = np.flatnonzero(~plain)
    frame = _other_frame(chunk, other) if other.size else None
    dup = seen.repeats(chunk, plain, [] if frame is None else _clean(frame).call_id.tolist())
    if (plain & dup).any():
        plain &= ~dup
        other = np.flatnonzero(~plain)
        frame = _other_frame(chunk, other)
    values, errors = validate_frame(frame, known, label=lambda i: i + 2, dup=dup[other]) \
        if frame is not None else (pd.DataFrame(), [])
    keep = plain[rows]
    good = rows[keep]
    batch = store.CallRows(count=int(good.size), demo=demo, updated_at=now)
    if form == "copy":
        batch.copy_binary = chunk.copy_binary(chunk.by_call_id(good), demo=demo, updated_us=store.micros(now))
        return batch, values, errors
    by, route, caller = by[keep], route[keep], caller[keep]

    def columns() -> dict[str, list[Any]]:
        times = chunk.times[good]
        has = by >= 0
        return {
            "call_id": chunk.texts(good, cr.CALL_ID),
            "started_at": times[:, 0].tolist(),
            "answered_at": _with_none(times[:, 1], has),
            "ended_at": times[:, 2].tolist(),
            "answer_s": _with_none((times[:, 1] - times[:, 0]) // 1_000_000, has),
            "answered_by": _lookup(by, by_texts, None).tolist(),
            "routed_to": _lookup(route, route_texts, None).tolist(),
            "first_unit": _lookup(route, [r.codes[0] if r.codes else None for r in routes], None).tolist(),
            "rang_count": _lookup(route, [len(r.codes) for r in routes], None).tolist(),
            "caller_unit": _lookup(caller, caller_texts, None).tolist(),
            "outcome": _lookup(outcome[keep], outcome_texts, None).tolist(),
            "incident_id": _lookup(incident[keep], [int(t) if t.isdigit() else None for t in incident_texts],
                                   None).tolist(),
        }

    if form == "image" and good.size:
        ordered = chunk.by_call_id(good)

        def prepare() -> None:
            # In the writer thread (the kernel releases the GIL): this thread goes on to the next chunk.
            batch.sqlite_image = chunk.sqlite_image(ordered)
            if batch.sqlite_image is None:
                batch.columns = columns()

        batch.prepare = prepare
    else:
        batch.columns = columns()
    return batch, values, errors


def read_calls_csv(stream: IO[bytes] | IO[str] | str) -> pd.DataFrame:
    """Read a call CSV (every cell as text); 422 when a required column is missing."""
    try:
        frame = pd.read_csv(stream, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the file is not a readable CSV: {exc}", code="CSV_UNREADABLE") from None
    _check_columns(frame)
    return frame


def _check_columns(frame: pd.DataFrame) -> None:
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas reads the surplus leading cells of a first row longer than the header as the row index
        raise InvalidInput("a row has more cells than the header", code="CSV_UNREADABLE",
                           errors=[{"pointer": "/2", "detail": "more cells than the header"}])
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)}", code="CSV_COLUMNS",
                           errors=[{"pointer": f"/columns/{c}", "detail": "required column"} for c in missing])


def import_calls_csv(session: Session, stream: Any, hierarchy: Hierarchy, *, actor: str, demo: bool = False,
                     request_id: str | None = None, now: datetime | None = None,
                     scope: str | None = None) -> ImportResult:
    """Import a CSV of calls (header on line 1, so data row ``i`` is line ``i + 2``); ``scope`` as in
    :func:`store_calls`. An upload held in memory (``io.BytesIO``) by an importer of every unit is read like
    a file (:func:`import_calls_file`); a scoped importer's rows each need the checks of
    :func:`_drop_out_of_scope`, which work on a frame."""
    if isinstance(stream, io.BytesIO) and hierarchy.within(MABES, scope):
        raw = stream.read()  # from where the caller is, as pandas would read
        stream = io.BytesIO(raw)
        plain = call_rows.plain_file(raw, COLUMNS, REQUIRED_COLUMNS)
        if plain is not None:
            now = now or utcnow()
            parts = _plain_parts(session, plain, hierarchy, demo=demo, now=now, chunk_rows=100_000)
            return _import_parts(session, parts, actor=actor, demo=demo, now=now, progress=None,
                                 request_id=request_id)
    frame = read_calls_csv(stream)
    return store_calls(session, frame, hierarchy, label=lambda i: i + 2, actor=actor, demo=demo,
                       request_id=request_id, now=now, scope=scope)


def calls_frame_from_json(body: Any) -> pd.DataFrame:
    """One call object or a list of them -> a frame of text cells (``routed_to`` may be a list)."""
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(x, Mapping) for x in items):
        raise BadRequest("send one call object or a non-empty list of them",
                         errors=[{"pointer": "/", "detail": "not an object or a list of objects"}])
    rows = []
    for item in items:
        row = {}
        for col in COLUMNS:
            value = item.get(col)
            if isinstance(value, list):
                value = ";".join(str(v) for v in value)
            row[col] = "" if value is None else str(value)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def import_calls_json(session: Session, body: Any, hierarchy: Hierarchy, *, actor: str,
                      request_id: str | None = None, now: datetime | None = None,
                      scope: str | None = None) -> ImportResult:
    """Store calls posted as JSON (live integration); errors point at ``/<i>/<column>`` (``/<column>`` for one);
    ``scope`` as in :func:`store_calls`."""
    frame = calls_frame_from_json(body)
    single = not isinstance(body, list)
    result = store_calls(session, frame, hierarchy, label=lambda i: "" if single else f"/{i}", actor=actor,
                         request_id=request_id, now=now, scope=scope)
    for err in result.errors:
        err["pointer"] = f"{err['row']}/{err['column']}"
    return result


# ------------------------------------------------------------------ periods


def resolve_period(zone: LocalZone, *, date_from: str | None = None, date_to: str | None = None,
                   week: str | None = None, month: str | None = None,
                   now: datetime | None = None) -> tuple[date, date, datetime, datetime]:
    """``(first day, last day, start, end)``: whole local days, ``start <= t < end`` (400 when malformed)."""
    given = [k for k, v in (("from", date_from or date_to), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadRequest("give either from/to, week or month", code="INVALID_PERIOD",
                         errors=[{"pointer": f"?{k}", "detail": "only one kind of period"} for k in given])
    try:
        if week:
            year, wk = parse_iso_week(week)
            first = date.fromisocalendar(year, wk, 1)
            last = first + timedelta(days=6)
        elif month:
            m = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
            if not m or not 1 <= int(m.group(2)) <= 12:
                raise ValueError(f"{month!r} is not a month such as 2026-11")
            year, mon = int(m.group(1)), int(m.group(2))
            first = date(year, mon, 1)
            last = date(year, mon, calendar.monthrange(year, mon)[1])
        elif date_from or date_to:
            if not (date_from and date_to):
                raise ValueError("give both from and to (YYYY-MM-DD)")
            first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
            if last < first:
                raise ValueError("to is before from")
            if (last - first).days > 400:
                raise ValueError("at most 400 days")
        else:
            today = (now or utcnow()).astimezone(zone.tz).date()
            first = today - timedelta(days=today.weekday())
            last = first + timedelta(days=6)
        if not (1900 <= first.year and last.year <= 2999):
            raise ValueError("years 1900..2999 only")
    except (ValueError, OverflowError) as exc:
        raise BadRequest(str(exc), code="INVALID_PERIOD", errors=[{"pointer": "?" + (given[0] if given else "from"),
                                                                   "detail": str(exc)}]) from None
    tz = zone.tz
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    nxt = last + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return first, last, start.astimezone(UTC), end.astimezone(UTC)


# ------------------------------------------------------------------ figures


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def histogram_median(hist: Mapping[int, int]) -> float | None:
    """Median of the values of a ``{value: count}`` histogram (mean of the two middle values)."""
    n = sum(hist.values())
    if not n:
        return None
    ranks = (n // 2, n // 2) if n % 2 else (n // 2 - 1, n // 2)
    picked: list[int] = []
    seen = 0
    for value in sorted(hist):
        count = hist[value]
        for r in ranks:
            if seen <= r < seen + count:
                picked.append(value)
        seen += count
        if len(picked) == 2:
            break
    return (picked[0] + picked[1]) / 2


def histogram_p90(hist: Mapping[int, int]) -> int | None:
    """Nearest-rank 90th percentile: the value at rank ceil(0.9 n)."""
    n = sum(hist.values())
    if not n:
        return None
    rank = math.ceil(0.9 * n)
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover


@dataclass
class _CallTally:
    offered: int = 0
    answered: int = 0
    within: list[int] = field(default_factory=lambda: [0] * len(store.ANSWER_THRESHOLDS_S))
    by_outcome: Counter[str] = field(default_factory=Counter)
    overflow: int = 0
    answered_above: int = 0
    hist: Counter[int] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        not_answered = self.offered - self.answered
        return {
            "offered": self.offered,
            "answered": self.answered,
            "not_answered": not_answered,
            "answer_rate": _share(self.answered, self.offered),
            "answered_within_s": {str(s): _share(w, self.offered)
                                  for s, w in zip(store.ANSWER_THRESHOLDS_S, self.within, strict=True)},
            "median_s_to_answer": histogram_median(self.hist),
            "p90_s_to_answer": histogram_p90(self.hist),
            "abandoned": self.by_outcome.get("abandoned", 0),
            "by_outcome": {o: self.by_outcome.get(o, 0) for o in OUTCOMES},
            "prank_share": _share(self.by_outcome.get("prank", 0), self.offered),
            "silent_share": _share(self.by_outcome.get("silent", 0), self.offered),
            "overflow": self.overflow,
            "overflow_share": _share(self.overflow, self.offered),
            "answered_above": self.answered_above,
        }


OWN_LINE = MABES + ":own"


def report_buckets(hierarchy: Hierarchy, unit_code: str) -> dict[str, str]:
    """Every unit of ``unit_code``'s subtree -> the child it rolls up to (the unit itself maps to itself;
    for MABES its own line maps to :data:`OWN_LINE`)."""
    buckets = {unit_code: OWN_LINE if unit_code == MABES else unit_code}
    for child in hierarchy.children(unit_code):
        for code in hierarchy.subtree(child):
            buckets[code] = child
    return buckets


def tally_calls(groups: Iterable[tuple[Any, ...]], unit_code: str, targets: set[str]) -> dict[str, _CallTally]:
    """Add the SQL groups up: every group counts for the report unit and for its first bucket (a child or
    Mabes' own line); answered there when the answering bucket is the same (for the unit: any bucket)."""
    tallies = {t: _CallTally() for t in targets}
    thresholds = store.ANSWER_THRESHOLDS_S
    total = tallies[unit_code]
    for first, answered_in, answered, seconds, n, overflowed, *by_outcome in groups:
        receivers = [(total, answered_in is not None)]
        if first in tallies and first != unit_code:
            receivers.append((tallies[first], answered_in == first))
        for tally, answered_here in receivers:
            tally.offered += n
            tally.overflow += overflowed
            for outcome, count in zip(OUTCOMES, by_outcome, strict=True):
                if count:
                    tally.by_outcome[outcome] += count
            if answered_here:
                tally.answered += n
                tally.hist[seconds] += n
                for k, limit in enumerate(thresholds):
                    if seconds <= limit:
                        tally.within[k] += n
            elif answered:
                tally.answered_above += n
    return tallies


# ------------------------------------------------------------------ response (milestones)


def _response(rows: Sequence[tuple[Any, ...]], *, now: datetime, target_s: Any) -> dict[str, Any]:
    to_dispatch: Counter[int] = Counter()
    to_scene: Counter[int] = Counter()
    within = 0
    open_by_age = {"lt_1h": 0, "1h_4h": 0, "4h_24h": 0, "gt_24h": 0}
    for row in rows:
        _id, _unit, _pd, _pr, _ps, status, reported, dispatched, on_scene, location = row
        if dispatched is not None:
            to_dispatch[int((dispatched - reported).total_seconds())] += 1
        if on_scene is not None:
            secs = int((on_scene - reported).total_seconds())
            to_scene[secs] += 1
            if secs <= target_s(row):
                within += 1
        if status == "belum_ditangani":
            hours = (now - reported).total_seconds() / 3600
            key = "lt_1h" if hours < 1 else "1h_4h" if hours < 4 else "4h_24h" if hours < 24 else "gt_24h"
            open_by_age[key] += 1
    reached = sum(to_scene.values())
    return {
        "incidents": len(rows),
        "median_s_to_dispatch": histogram_median(to_dispatch),
        "median_s_to_scene": histogram_median(to_scene),
        "p90_s_to_scene": histogram_p90(to_scene),
        "on_scene": reached,
        "within_target": within,
        "within_target_share": _share(within, reached),
        "open": sum(open_by_age.values()),
        "open_by_age": open_by_age,
    }


def incident_unit(row: Sequence[Any]) -> str | None:
    """The finest unit code an incident row is assigned to."""
    return row[1] or row[4] or row[3] or row[2]


def make_target(settings: Settings, ancestors: Callable[[str], Sequence[str]]) -> Callable[[Sequence[Any]], int]:
    """The quick-response target in seconds (call -> on scene) of an incident row.

    The unit's own target (``GEO_SERVICE_RESPONSE_TARGETS``, the nearest unit above it with one
    counts) wins; else the distance band of the nearest station (``..._TARGET_BANDS``, km from
    the locate answer; beyond the last band its target); else the default (10 minutes).
    """
    per_unit, bands = parse_response_targets(settings.response_targets, settings.response_target_bands)
    default_s = settings.response_target_minutes * 60

    def target(row: Sequence[Any]) -> int:
        code = incident_unit(row)
        if per_unit and code:
            for c in ancestors(code):
                if c in per_unit:
                    return per_unit[c] * 60
        if bands:
            stations = (row[9] or {}).get("stations") if isinstance(row[9], Mapping) else None
            if stations:
                km = float(stations[0].get("distance_m", 0)) / 1000
                for limit_km, minutes in bands:
                    if km <= limit_km:
                        return minutes * 60
                return bands[-1][1] * 60
        return default_s

    return target



# ------------------------------------------------------------------ the report


def calls_report(
    session: Session,
    hierarchy: Hierarchy,
    *,
    unit_code: str,
    date_from: str | None = None,
    date_to: str | None = None,
    week: str | None = None,
    month: str | None = None,
    now: datetime | None = None,
    target_s: Any = None,
) -> dict[str, Any]:
    """The Anev report of a unit for a period (see the module docstring for every rule)."""
    now = now or utcnow()
    node = hierarchy.node(unit_code)
    zone = hierarchy.zone(unit_code)
    first, last, start, end = resolve_period(zone, date_from=date_from, date_to=date_to, week=week, month=month,
                                             now=now)
    children = list(hierarchy.children(unit_code))
    targets = {unit_code, *children}
    if unit_code == MABES:
        targets.add(OWN_LINE)
    groups = store.call_groups(session, start, end, OUTCOMES, report_buckets(hierarchy, unit_code),
                               every_unit=unit_code == MABES)
    tallies = tally_calls(groups, unit_code, targets)

    target = target_s or (lambda _row: 600)
    rows = store.incident_response_rows(session, start, end)
    by_target: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        code = incident_unit(row)
        chain = hierarchy.ancestors(code) if code else (MABES,)
        for c in chain:
            if c in targets:
                by_target[c].append(row)
        if code == MABES and OWN_LINE in targets:
            by_target[OWN_LINE].append(row)
    response = {t: _response(by_target.get(t, []), now=now, target_s=target) for t in targets}

    entries = []
    for code in ([OWN_LINE] if unit_code == MABES else []) + children:
        shown = MABES if code == OWN_LINE else code
        child = hierarchy.node(shown)
        entries.append({"unit": {"code": shown, "name": child.name, "level": child.level,
                                 "own_line": code == OWN_LINE},
                        "calls": tallies[code].to_dict(), "response": response[code]})
    by_volume = sorted(entries, key=lambda e: (-e["calls"]["offered"], e["unit"]["code"]))
    by_missed = sorted(entries, key=lambda e: (-e["calls"]["not_answered"], e["unit"]["code"]))
    for rank, e in enumerate(by_volume, 1):
        e["rank_by_volume"] = rank
    for rank, e in enumerate(by_missed, 1):
        e["rank_by_not_answered"] = rank
    return {
        "unit": {"code": node.code, "name": node.name, "level": node.level},
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": zone.iana,
        "timezone_label": zone.label,
        "period_start": start.astimezone(zone.tz).isoformat(),
        "period_end": end.astimezone(zone.tz).isoformat(),
        "as_of": now.astimezone(zone.tz).isoformat(),
        "calls": tallies[unit_code].to_dict(),
        "response": response[unit_code],
        "children": by_volume,
        "top_by_volume": [e["unit"]["code"] for e in by_volume if e["calls"]["offered"]][:TOP_N],
        "most_not_answered": [e["unit"]["code"] for e in by_missed if e["calls"]["not_answered"]][:TOP_N],
        "below_half_answered": sorted(e["unit"]["code"] for e in entries
                                      if e["calls"]["offered"] and e["calls"]["answer_rate"] < 0.5),
    }


def report_for(session: Session, index: JurisdictionIndex, settings: Settings, *, unit: str | None,
               scope: str | None, args: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The report for a caller: ``unit`` within ``scope`` (default the scope, else MABES), the period from
    ``args`` (``from``/``to``, ``week`` or ``month``); shared by the API, the pages and the CLI."""
    hierarchy = hierarchy_for(index)
    unit_code = effective_report_unit(hierarchy, unit or None, scope)
    return calls_report(session, hierarchy, unit_code=unit_code, date_from=args.get("from") or None,
                        date_to=args.get("to") or None, week=args.get("week") or None,
                        month=args.get("month") or None, now=now,
                        target_s=make_target(settings, hierarchy.ancestors))


def share_band(share: float | None) -> str:
    """Colour band of a share (answer rate, share on scene within target) for the choropleths."""
    if share is None:
        return "none"
    return "lt50" if share < 0.5 else "50_80" if share < 0.8 else "80_90" if share < 0.9 else "ge90"


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share * 100:.1f} %"


def child_map_features(report: Mapping[str, Any], index: JurisdictionIndex) -> dict[str, Any]:
    """GeoJSON of the report's children that have an area in the published set (the Polda for Mabes) with what
    both choropleths show: the answer rate and the share of incidents on scene within target, with their bands."""
    import shapely

    features = []
    for child in report["children"]:
        code = child["unit"]["code"]
        unit = index.units.get(code)
        if unit is None or child["unit"].get("own_line"):
            continue
        c, r = child["calls"], child["response"]
        geom = shapely.simplify(unit.geometry, 0.005, preserve_topology=True)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": {
            "code": code, "name": unit.name, "level": unit.level, "offered": c["offered"],
            "not_answered": c["not_answered"], "answer_rate": _percent(c["answer_rate"]),
            "band": share_band(c["answer_rate"]), "on_scene": r["on_scene"], "within_target": r["within_target"],
            "within_target_share": _percent(r["within_target_share"]),
            "target_band": share_band(r["within_target_share"])}})
    return {"type": "FeatureCollection", "features": features}


def weekly_trend(session: Session, hierarchy: Hierarchy, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Offered / answered-anywhere per local day of the report's period (for the dashboard's trend)."""
    unit_code = report["unit"]["code"]
    zone = hierarchy.zone(unit_code)
    start = datetime.fromisoformat(report["period_start"])
    end = datetime.fromisoformat(report["period_end"])
    first_units = None if unit_code == MABES else hierarchy.subtree(unit_code)
    days = store.daily_call_counts(session, start, end, first_units, zone.utc_offset_h)
    return [{"day": d, "offered": o, "answered": a} for d, o, a in days]


# ------------------------------------------------------------------ exports

REPORT_COLUMNS = (
    "row", "unit_code", "unit_name", "from", "to", "offered", "answered", "not_answered", "answer_rate",
    "answered_within_10s", "answered_within_15s", "answered_within_20s", "median_s_to_answer", "p90_s_to_answer",
    "abandoned", *(f"outcome_{o}" for o in OUTCOMES), "prank_share", "silent_share", "overflow", "overflow_share",
    "median_s_to_dispatch", "median_s_to_scene", "p90_s_to_scene", "within_target", "open",
    "rank_by_volume", "rank_by_not_answered",
)


def report_rows(report: Mapping[str, Any]) -> list[list[Any]]:
    """The report as a table: header, one ``unit`` row, then one ``child`` row per child in rank order."""
    def row(kind: str, unit: Mapping[str, Any], c: Mapping[str, Any], r: Mapping[str, Any],
            ranks: tuple[Any, Any]) -> list[Any]:
        w = c["answered_within_s"]
        return [kind, unit["code"], unit["name"], report["from"], report["to"], c["offered"], c["answered"],
                c["not_answered"], c["answer_rate"], w["10"], w["15"], w["20"], c["median_s_to_answer"],
                c["p90_s_to_answer"], c["abandoned"], *(c["by_outcome"][o] for o in OUTCOMES), c["prank_share"],
                c["silent_share"], c["overflow"], c["overflow_share"], r["median_s_to_dispatch"],
                r["median_s_to_scene"], r["p90_s_to_scene"], r["within_target"], r["open"], *ranks]

    rows = [list(REPORT_COLUMNS), row("unit", report["unit"], report["calls"], report["response"], ("", ""))]
    for child in report["children"]:
        rows.append(row("child", child["unit"], child["calls"], child["response"],
                        (child["rank_by_volume"], child["rank_by_not_answered"])))
    return [[_cell_safe(v) for v in r] for r in rows]


def _cell_safe(value: Any) -> Any:
    return "" if value is None else csv_safe(value)  # no spreadsheet formula from a unit name


def report_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV (see :func:`report_rows`)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(report_rows(report))
    return buf.getvalue()


def report_xlsx(report: Mapping[str, Any]) -> bytes:
    """The report as an Excel workbook (openpyxl): sheet "Anev 110" with the same table as the CSV."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    ws = wb.active
    ws.title = "Anev 110"
    for r in report_rows(report):
        # A control character in a unit name from an uploaded file would make openpyxl refuse the cell
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in r])
    ws.freeze_panes = "C2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ demo month


#: Demo month: calls per day on each Polres line, on the line of a Polda without Polres lines, and on Mabes' line.
DEMO_CALLS_PER_POLRES_DAY = 6.0
DEMO_CALLS_PER_POLDA_LINE_DAY = 30.0
DEMO_CALLS_PER_MABES_DAY = 20.0
#: A Polda with fewer Polres lines than this in the hierarchy also gets calls on its own line.
DEMO_POLDA_LINE_BELOW = 5
#: How many Polda of the demo month answer poorly (under half of their calls), as in the review.
DEMO_POOR_POLDA = 5
_DEMO_OUTCOME_WEIGHTS = (22, 8, 5, 25, 30, 5, 4, 1)  # per OUTCOMES: most answered calls are silent or prank


def _demo_routes(hierarchy: Hierarchy, rng: random.Random) -> list[tuple[str, list[list[str]], float, float]]:
    """``(first line, its routes, calls per day, answering chance per rung)`` of every line of the demo month:
    each Polres line (overflow -> its Polda -> Mabes), the line of each Polda with few Polres lines (-> Mabes)
    and Mabes' own line."""
    poldas = [c for c in hierarchy.children(MABES) if hierarchy.node(c).level == "polda"]
    poor = set(rng.sample(poldas, min(DEMO_POOR_POLDA, len(poldas))))
    lines: list[tuple[str, list[list[str]], float, float]] = []
    for polda in poldas:
        quality = rng.uniform(0.12, 0.3) if polda in poor else rng.uniform(0.5, 0.97)
        polres = [c for c in hierarchy.children(polda) if hierarchy.node(c).level == "polres"]
        for code in polres:
            lines.append((code, [[code], [code], [code], [code, polda], [code, polda, MABES]],
                          DEMO_CALLS_PER_POLRES_DAY * rng.uniform(0.5, 1.5), quality))
        if len(polres) < DEMO_POLDA_LINE_BELOW:  # the structure lists few of its Polres: its own line takes the rest
            lines.append((polda, [[polda], [polda], [polda, MABES]],
                          DEMO_CALLS_PER_POLDA_LINE_DAY * rng.uniform(0.5, 1.5), quality))
    lines.append((MABES, [[MABES]], DEMO_CALLS_PER_MABES_DAY, 0.8))
    return lines


def seed_demo_calls(session: Session, hierarchy: Hierarchy, *, days: int = 30, seed: int = 110,
                    now: datetime | None = None) -> int:
    """A realistic month of demo calls (``demo=True``, ids ``DEMO-...``) for every Polda of the hierarchy (the
    structure in force: 38 today) and Mabes' own line: mostly silent and prank calls, unanswered ones, overflow
    Polres -> Polda -> Mabes, answer rates that differ between Polda (:data:`DEMO_POOR_POLDA` under half).
    Deterministic per seed; written through the import path in one statement."""
    now = now or utcnow()
    rng = random.Random(seed)
    start = (now - timedelta(days=days)).replace(microsecond=0)
    span_s = days * 86400
    rows = []
    for first, routes, per_day, quality in _demo_routes(hierarchy, rng):
        for k in range(int(days * per_day)):
            t0 = start + timedelta(seconds=rng.randrange(span_s))
            route = rng.choice(routes)
            answered_by, answer_s = None, None
            for hop, code in enumerate(route):
                if rng.random() < (0.8 if code == MABES else quality):
                    answered_by, answer_s = code, hop * 20 + int(rng.expovariate(1 / 9))
                    break
            outcome = rng.choices(OUTCOMES, weights=_DEMO_OUTCOME_WEIGHTS)[0] if answered_by else "abandoned"
            ans = t0 + timedelta(seconds=answer_s) if answer_s is not None else None
            end = (ans or t0) + timedelta(seconds=rng.randrange(5, 400))
            rows.append((f"{DEMO_PREFIX}{first}-{k}-{seed}", t0.isoformat(), ans.isoformat() if ans else "",
                         end.isoformat(), answered_by or "", ";".join(route), "", outcome, ""))
    if not rows:
        return 0
    result = store_calls(session, pd.DataFrame(rows, columns=list(COLUMNS)), hierarchy, label=lambda i: i + 2,
                         actor="demo-seed", demo=True, now=now)
    LOGGER.info("seeded %d demo calls", result.created + result.updated)
    return result.created + result.updated


def clear_demo_calls(session: Session, *, actor: str = "demo-seed") -> int:
    """Delete the demo calls only."""
    n = store.delete_demo_calls(session)
    audit(session, actor=actor, action="calls.demo_clear", target_type="calls", detail={"deleted": n})
    return n


__all__ = [
    "COLUMNS", "MABES", "OUTCOMES", "Hierarchy", "ImportResult", "calls_report", "clear_demo_calls",
    "effective_report_unit", "hierarchy_for", "import_calls_csv", "import_calls_file", "import_calls_json", "make_target", "report_csv", "report_for", "report_xlsx",
    "resolve_period", "seed_demo_calls", "tally_calls", "weekly_trend",
]
