"""The call CSV read and checked in compiled code over the raw bytes (issue 16's 1M-row import).

``pandas.read_csv`` alone costs what the issue allows the whole import a third of; reading the cells into
Python objects, parsing the times with pandas and checking them took three times that again. This module
reads the file's bytes with numba kernels instead and decides, per row, one of two things:

* **plain**: every used cell is in the canonical form (printable ASCII, no space or backslash; times
  ``YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)``; a route without empty codes) and passes the checks
  a kernel can make (times in order and within a day, answered_at and answered_by given together). Its
  values come from the kernels: times as microseconds since 1970 UTC, text as spans of the buffer.
* **other**: anything else. These rows are read by ``pandas.read_csv`` from their own lines and checked by
  :func:`geo_service.services.calls.validate_frame`, the one place the rules and their error texts live.

The checks on values that repeat (unit codes, routes, outcomes, incident ids) run in Python once per
distinct value, on the codes the kernels factorise, and a plain row that fails one becomes an other row.
So the kernels only ever *accept* a row that the frame check accepts with the same values; the oracle
test in ``tests/services/test_call_rows.py`` compares both paths on generated files row by row.

A file qualifies only when its shape is one a line-by-line reader gets right (:func:`plain_file`): no
quote character anywhere (a quoted cell may hold a comma or a line break), no blank line, no carriage
return but before a line feed, the header's number of cells on every line, a header with unique names.
Any other file goes to the pandas reader whole, as before.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from geo_service.geo.jit import kernel

#: The logical columns, in :data:`geo_service.services.calls.COLUMNS` order.
CALL_ID, STARTED, ANSWERED, ENDED, ANSWERED_BY, ROUTED_TO, CALLER_UNIT, OUTCOME, INCIDENT_ID = range(9)
N_COLUMNS = 9
FIRST_UNIT = 9  # spans only: the route's first unit code
N_SPANS = 10
MAX_CALL_ID = 80
MAX_CALL_US = 86_400 * 1_000_000
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_OFFSET_H = 14
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 UTC, PostgreSQL's zero time
_QUOTE, _CR, _LF, _COMMA = 34, 13, 10, 44
_BOM = b"\xef\xbb\xbf"
#: The table of a SQLite stage image (:meth:`Chunk.sqlite_image`) and its columns, in record order.
STAGE_TABLE = "calls_in"
STAGE_COLUMNS = ("call_id", "started_at", "answered_at", "ended_at", "answer_s", "answered_by", "routed_to",
                 "first_unit", "rang_count", "caller_unit", "outcome", "incident_id")
SQLITE_PAGE = 65536
_PG_COPY_SIGNATURE = np.frombuffer(b"PGCOPY\n\xff\r\n\x00", dtype=np.uint8)


@kernel
def _line_starts(data: np.ndarray, start: int, n_commas: int, lines: int) -> np.ndarray:
    """The offset of each of the ``lines`` lines from ``start`` (the first data line) plus the end, when
    they have the plain shape: no quote, ``n_commas`` commas on every line, no empty line, a carriage return
    only right before a line feed; an empty array otherwise. ``data`` ends with a line feed."""
    starts = np.empty(lines + 1, dtype=np.int64)
    fail = np.empty(0, dtype=np.int64)
    starts[0] = start
    k = 1
    commas = 0
    line_start = start
    for i in range(start, data.size):
        b = data[i]
        if b > _COMMA:
            continue
        if b == _COMMA:
            commas += 1
        elif b == _LF:
            if i == line_start or commas != n_commas:
                return fail
            commas = 0
            line_start = i + 1
            starts[k] = i + 1
            k += 1
        elif b == _QUOTE:
            return fail
        elif b == _CR:
            if data[i + 1] != _LF or i == line_start:
                return fail
    return starts


@kernel
def _days_from_civil(y: int, m: int, d: int) -> int:
    # Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@kernel
def _digits(data: np.ndarray, s: int, k: int) -> int:
    """The unsigned integer of the ``k`` bytes at ``s``; -1 when one is not a digit."""
    v = 0
    for i in range(s, s + k):
        c = data[i] - 48
        if c < 0 or c > 9:
            return -1
        v = v * 10 + c
    return v


@kernel
def _time_us(data: np.ndarray, s: int, e: int) -> tuple[bool, int]:
    """``(True, microseconds since 1970 UTC)`` of a canonical ISO 8601 time with an offset in
    ``data[s:e]``; ``(False, 0)`` for anything else (the frame check then decides)."""
    if e - s < 20:
        return False, 0
    if data[s + 4] != 45 or data[s + 7] != 45 or data[s + 10] != 84 or data[s + 13] != 58 or data[s + 16] != 58:
        return False, 0
    y = _digits(data, s, 4)
    mo = _digits(data, s + 5, 2)
    d = _digits(data, s + 8, 2)
    h = _digits(data, s + 11, 2)
    mi = _digits(data, s + 14, 2)
    sec = _digits(data, s + 17, 2)
    if y < MIN_YEAR or y > MAX_YEAR or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 \
            or sec < 0 or sec > 59:
        return False, 0
    dim = 31
    if mo == 4 or mo == 6 or mo == 9 or mo == 11:
        dim = 30
    elif mo == 2:
        dim = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    if d > dim:
        return False, 0
    i = s + 19
    frac = 0
    if data[i] == 46:  # '.'
        i += 1
        k = 0
        while i < e and 48 <= data[i] <= 57:
            frac = frac * 10 + (data[i] - 48)
            k += 1
            i += 1
        if k == 0 or k > 6:
            return False, 0
        for _ in range(6 - k):
            frac *= 10
    offset_s = 0
    if i == e - 1 and data[i] == 90:  # 'Z'
        offset_s = 0
    elif i == e - 6 and (data[i] == 43 or data[i] == 45) and data[i + 3] == 58:  # '+' | '-', ':'
        oh = _digits(data, i + 1, 2)
        om = _digits(data, i + 4, 2)
        if oh < 0 or oh > MAX_OFFSET_H or om < 0 or om > 59:
            return False, 0
        offset_s = oh * 3600 + om * 60
        if data[i] == 45:
            offset_s = -offset_s
    else:
        return False, 0
    seconds = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s
    return True, seconds * 1_000_000 + frac


@kernel
def _scan(data: np.ndarray, starts: np.ndarray, field_of: np.ndarray, n_fields: int) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per line ``starts[r]..starts[r + 1]``: ``(plain, spans[r, column, 2], times[r, 3], rang[r])``.

    ``field_of[c]`` is the header position of logical column ``c`` (-1: absent, read as empty). Times are
    microseconds (answered_at: only when its cell is not empty); for a plain row, ``spans[r, FIRST_UNIT]`` is
    the route's first code and ``rang[r]`` the number of its codes."""
    n = starts.size - 1
    plain = np.ones(n, dtype=np.bool_)
    spans = np.zeros((n, N_SPANS, 2), dtype=np.int64)
    times = np.zeros((n, 3), dtype=np.int64)
    rang = np.zeros(n, dtype=np.int64)
    bounds = np.empty(n_fields + 1, dtype=np.int64)
    column_of = np.full(n_fields, -1, dtype=np.int64)
    for c in range(N_COLUMNS):
        if field_of[c] >= 0:
            column_of[field_of[c]] = c
    for r in range(n):
        s = starts[r]
        e = starts[r + 1] - 1  # the line feed
        if e > s and data[e - 1] == _CR:
            e -= 1
        k = 0
        bounds[0] = s
        ok = True
        used = column_of[0] >= 0
        for i in range(s, e):
            b = data[i]
            if b == _COMMA:
                k += 1
                bounds[k] = i + 1
                used = column_of[k] >= 0
            elif (b <= 32 or b >= 127 or b == 92) and used:  # space/control, non-ASCII or DEL, backslash
                ok = False
        bounds[n_fields] = e + 1
        for f in range(n_fields):
            c = column_of[f]
            if c >= 0:
                spans[r, c, 0] = bounds[f]
                spans[r, c, 1] = bounds[f + 1] - 1
        if not ok:
            plain[r] = False
            continue
        sp = spans[r]
        id_len = sp[CALL_ID, 1] - sp[CALL_ID, 0]
        route_s = sp[ROUTED_TO, 0]
        route_e = sp[ROUTED_TO, 1]
        if id_len == 0 or id_len > MAX_CALL_ID or route_e == route_s or sp[OUTCOME, 1] == sp[OUTCOME, 0]:
            plain[r] = False
            continue
        if data[route_s] == 59 or data[route_e - 1] == 59:  # a leading or trailing ';'
            plain[r] = False
            continue
        first_end = route_e
        codes = 1
        for i in range(route_s, route_e):
            if data[i] == 59:
                if codes == 1:
                    first_end = i
                codes += 1
                if data[i + 1] == 59:  # an empty code (a ';' is never the route's last byte here)
                    ok = False
        ok_s, t_s = _time_us(data, sp[STARTED, 0], sp[STARTED, 1])
        ok_e, t_e = _time_us(data, sp[ENDED, 0], sp[ENDED, 1])
        has_answer = sp[ANSWERED, 1] > sp[ANSWERED, 0]
        has_by = sp[ANSWERED_BY, 1] > sp[ANSWERED_BY, 0]
        if not (ok and ok_s and ok_e) or has_answer != has_by:
            plain[r] = False
            continue
        if t_e < t_s or t_e - t_s > MAX_CALL_US:
            plain[r] = False
            continue
        t_a = 0
        if has_answer:
            ok_a, t_a = _time_us(data, sp[ANSWERED, 0], sp[ANSWERED, 1])
            if not ok_a or t_a < t_s or t_e < t_a or t_a - t_s > MAX_CALL_US:
                plain[r] = False
                continue
        times[r, 0] = t_s
        times[r, 1] = t_a
        times[r, 2] = t_e
        spans[r, FIRST_UNIT, 0] = route_s
        spans[r, FIRST_UNIT, 1] = first_end
        rang[r] = codes
    return plain, spans, times, rang


@kernel
def _first_slot(src: np.ndarray, s: int, e: int, size: int) -> int:
    """The home slot of the bytes ``src[s:e]`` in an open-addressing table of ``size`` (a power of two)
    slots: their FNV-1a hash, masked."""
    h = np.uint64(14695981039346656037)
    for i in range(s, e):
        h = (h ^ np.uint64(src[i])) * np.uint64(1099511628211)
    return np.int64(h & np.uint64(size - 1))  # type: ignore[return-value]


@kernel
def _factorize(data: np.ndarray, spans: np.ndarray, rows: np.ndarray, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the cells of ``column`` in ``rows`` (-1 for an empty cell) and, per code, the row of its
    first cell: an open-addressing hash table over the bytes (FNV-1a)."""
    n = rows.size
    size = 64
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)  # -> code
    first = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.int64)
    n_codes = 0
    for j in range(n):
        r = rows[j]
        s = spans[r, column, 0]
        e = spans[r, column, 1]
        if e == s:
            codes[j] = -1
            continue
        slot = _first_slot(data, s, e, size)
        while True:
            code = table[slot]
            if code < 0:
                table[slot] = n_codes
                first[n_codes] = r
                codes[j] = n_codes
                n_codes += 1
                break
            fr = first[code]
            fs = spans[fr, column, 0]
            if spans[fr, column, 1] - fs == e - s:
                same = True
                for i in range(e - s):
                    if data[fs + i] != data[s + i]:
                        same = False
                        break
                if same:
                    codes[j] = code
                    break
            slot = (slot + 1) & (size - 1)
    return codes, first[:n_codes].copy()


@kernel
def _mark_repeats(data: np.ndarray, spans: np.ndarray, plain: np.ndarray, other: np.ndarray, other_ends: np.ndarray,
                  table: np.ndarray, key_at: np.ndarray, key_len: np.ndarray, arena: np.ndarray,
                  counts: np.ndarray) -> np.ndarray:
    """Which rows of a chunk repeat a non-empty call id of an earlier row of the file, in row order.

    A plain row's id is its cell in ``data``; the ``j``-th other row's id is
    ``other[other_ends[j - 1]:other_ends[j]]`` (UTF-8 of the id as :func:`validate_frame` cleans it). Ids
    seen so far live in ``table`` (open addressing on FNV-1a; slot -> key number) with ``key_at`` (>= 0: an
    offset into ``data``; < 0: ``-1 - offset`` into ``arena``) and ``key_len``; ``counts`` holds (keys,
    arena bytes used) and is updated, as are the other arrays (sized by the caller)."""
    n = plain.size
    dup = np.zeros(n, dtype=np.bool_)
    j = 0
    for r in range(n):
        if plain[r]:
            dup[r] = _seen_before(data, spans[r, 0, 0], spans[r, 0, 1], True, data, table, key_at, key_len, arena,
                                  counts)
        else:
            s = other_ends[j - 1] if j > 0 else 0
            dup[r] = _seen_before(other, s, other_ends[j], False, data, table, key_at, key_len, arena, counts)
            j += 1
    return dup


@kernel
def _seen_before(src: np.ndarray, s: int, e: int, in_data: bool, data: np.ndarray, table: np.ndarray,
                 key_at: np.ndarray, key_len: np.ndarray, arena: np.ndarray, counts: np.ndarray) -> bool:
    """Whether ``src[s:e]`` is a key of ``table`` already; adds it if not (see :func:`_mark_repeats`)."""
    m = e - s
    if m == 0:
        return False
    size = table.size
    slot = _first_slot(src, s, e, size)
    while True:
        found = table[slot]
        if found < 0:
            table[slot] = counts[0]
            if in_data:
                key_at[counts[0]] = s
            else:
                a = counts[1]
                for i in range(m):
                    arena[a + i] = src[s + i]
                key_at[counts[0]] = -1 - a
                counts[1] = a + m
            key_len[counts[0]] = m
            counts[0] += 1
            return False
        if key_len[found] == m:
            at = key_at[found]
            same = True
            for i in range(m):
                b = data[at + i] if at >= 0 else arena[-1 - at + i]
                if b != src[s + i]:
                    same = False
                    break
            if same:
                return True
        slot = (slot + 1) & (size - 1)


class SeenIds:
    """The call ids of the rows read so far, for :func:`_mark_repeats` (one per file)."""

    def __init__(self, file: PlainFile) -> None:
        size = 64
        while size < 2 * file.rows:
            size *= 2
        self.file = file
        self.table = np.full(size, -1, dtype=np.int64)
        self.key_at = np.empty(file.rows, dtype=np.int64)
        self.key_len = np.empty(file.rows, dtype=np.int64)
        self.arena = np.empty(0, dtype=np.uint8)
        self.counts = np.zeros(2, dtype=np.int64)

    def repeats(self, chunk: Chunk, plain: np.ndarray, other_ids: list[str]) -> np.ndarray:
        """Which rows of ``chunk`` repeat an id of an earlier row; ``other_ids``: the cleaned ids of the
        rows that are not ``plain``, in row order. Adds the chunk's ids."""
        encoded = [text.encode("utf-8") for text in other_ids]
        other = np.frombuffer(b"".join(encoded), dtype=np.uint8)  # read-only, like the file's bytes
        ends = np.cumsum(np.array([len(b) for b in encoded], dtype=np.int64))
        need = int(self.counts[1]) + other.size
        if need > self.arena.size:
            grown = np.empty(max(need, 2 * self.arena.size), dtype=np.uint8)
            grown[:self.arena.size] = self.arena
            self.arena = grown
        return _mark_repeats(self.file.data, chunk.spans, plain, other, ends, self.table, self.key_at,  # type: ignore[no-any-return]
                             self.key_len, self.arena, self.counts)


@kernel
def _join(data: np.ndarray, spans: np.ndarray, rows: np.ndarray, column: int) -> np.ndarray:
    """The cells of ``column`` in ``rows``, each followed by a line feed, as one buffer."""
    total = 0
    for r in rows:
        total += spans[r, column, 1] - spans[r, column, 0] + 1
    out = np.empty(total, dtype=np.uint8)
    k = 0
    for r in rows:
        for i in range(spans[r, column, 0], spans[r, column, 1]):
            out[k] = data[i]
            k += 1
        out[k] = _LF
        k += 1
    return out


@kernel
def _id_matrix(data: np.ndarray, spans: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
    """The call ids of ``rows`` as a (rows, width) byte matrix padded with zeros: viewed as fixed-width bytes,
    numpy sorts it in byte order (plain ids are ASCII without NUL, so a shorter id sorts before its
    extensions, as PostgreSQL's "C" collation and SQLite's BINARY do)."""
    out = np.zeros((rows.size, width), dtype=np.uint8)
    for j in range(rows.size):
        s = spans[rows[j], CALL_ID, 0]
        e = spans[rows[j], CALL_ID, 1]
        out[j, :e - s] = data[s:e]
    return out


@kernel
def _put_be(out: np.ndarray, k: int, v: int, size: int) -> int:
    """``v`` as a ``size``-byte big-endian two's complement integer at ``out[k]``."""
    for i in range(size):
        out[k + size - 1 - i] = (v >> (8 * i)) & 0xFF
    return k + size


@kernel
def _put_text(out: np.ndarray, k: int, data: np.ndarray, s: int, e: int, null_if_empty: bool) -> int:
    """A binary COPY field: its length and bytes (or length -1, NULL, for an empty cell when asked)."""
    if e == s and null_if_empty:
        return _put_be(out, k, -1, 4)
    k = _put_be(out, k, e - s, 4)
    out[k:k + e - s] = data[s:e]
    return k + e - s


@kernel
def _put_number(out: np.ndarray, k: int, v: int, size: int) -> int:
    return _put_be(out, _put_be(out, k, size, 4), v, size)


@kernel
def _copy_binary(data: np.ndarray, spans: np.ndarray, times: np.ndarray, rang: np.ndarray, rows: np.ndarray,
                 demo: bool, updated_us: int) -> np.ndarray:
    """PostgreSQL binary ``COPY`` data (header, ``rows``, trailer) in the column order ``call_id, started_at,
    answered_at, ended_at, answer_s, answered_by, routed_to, first_unit, rang_count, caller_unit, outcome,
    incident_id, demo, updated_at``: text as its bytes, ``timestamptz`` as int64 microseconds since
    2000-01-01 UTC, ``integer`` int32, ``boolean`` one byte. Nothing is left for PostgreSQL to parse."""
    total = 19 + 2
    for r in rows:
        for c in range(N_SPANS):
            total += spans[r, c, 1] - spans[r, c, 0]
        total += 14 * 4 + 2 + 4 * 8 + 4 * 4 + 1  # 14 lengths, the field count, the numbers
    out = np.empty(total, dtype=np.uint8)
    for i in range(11):
        out[i] = _PG_COPY_SIGNATURE[i]
    k = _put_be(out, 11, 0, 4)  # flags
    k = _put_be(out, k, 0, 4)  # header extension length
    for r in rows:
        sp = spans[r]
        answered = sp[ANSWERED, 1] > sp[ANSWERED, 0]
        k = _put_be(out, k, 14, 2)
        k = _put_text(out, k, data, sp[CALL_ID, 0], sp[CALL_ID, 1], False)
        k = _put_number(out, k, times[r, 0] - PG_EPOCH_US, 8)
        k = _put_number(out, k, times[r, 1] - PG_EPOCH_US, 8) if answered else _put_be(out, k, -1, 4)
        k = _put_number(out, k, times[r, 2] - PG_EPOCH_US, 8)
        k = _put_number(out, k, (times[r, 1] - times[r, 0]) // 1_000_000, 4) if answered else _put_be(out, k, -1, 4)
        k = _put_text(out, k, data, sp[ANSWERED_BY, 0], sp[ANSWERED_BY, 1], True)
        k = _put_text(out, k, data, sp[ROUTED_TO, 0], sp[ROUTED_TO, 1], False)
        k = _put_text(out, k, data, sp[FIRST_UNIT, 0], sp[FIRST_UNIT, 1], False)
        k = _put_number(out, k, rang[r], 4)
        k = _put_text(out, k, data, sp[CALLER_UNIT, 0], sp[CALLER_UNIT, 1], True)
        k = _put_text(out, k, data, sp[OUTCOME, 0], sp[OUTCOME, 1], False)
        if sp[INCIDENT_ID, 1] > sp[INCIDENT_ID, 0]:
            k = _put_number(out, k, _digits(data, sp[INCIDENT_ID, 0], sp[INCIDENT_ID, 1] - sp[INCIDENT_ID, 0]), 4)
        else:
            k = _put_be(out, k, -1, 4)
        k = _put_number(out, k, 1 if demo else 0, 1)
        k = _put_number(out, k, updated_us - PG_EPOCH_US, 8)
    k = _put_be(out, k, -1, 2)  # trailer
    return out[:k].copy()


@kernel
def _varint(out: np.ndarray, k: int, v: int) -> int:
    """SQLite's varint of a non-negative ``v`` below 2**56 at ``out[k]`` (7 bits per byte, high bit: more)."""
    n = 1
    t = v >> 7
    while t > 0:
        n += 1
        t >>= 7
    for i in range(n):
        byte = (v >> (7 * (n - 1 - i))) & 0x7F
        out[k + i] = byte | 0x80 if i < n - 1 else byte
    return k + n


@kernel
def _varint_len(v: int) -> int:
    n = 1
    v >>= 7
    while v > 0:
        n += 1
        v >>= 7
    return n


@kernel
def _record_parts(sp: np.ndarray) -> tuple[np.ndarray, int]:
    """The SQLite serial types of a plain row's record (the columns of :data:`STAGE_COLUMNS`) and the byte
    length of its body."""
    types = np.empty(12, dtype=np.int64)
    answered = sp[ANSWERED, 1] > sp[ANSWERED, 0]
    types[0] = 13 + 2 * (sp[CALL_ID, 1] - sp[CALL_ID, 0])
    types[1] = 6  # 64-bit integer
    types[2] = 6 if answered else 0
    types[3] = 6
    types[4] = 4 if answered else 0  # 32-bit integer
    types[5] = 13 + 2 * (sp[ANSWERED_BY, 1] - sp[ANSWERED_BY, 0]) if answered else 0
    types[6] = 13 + 2 * (sp[ROUTED_TO, 1] - sp[ROUTED_TO, 0])
    types[7] = 13 + 2 * (sp[FIRST_UNIT, 1] - sp[FIRST_UNIT, 0])
    types[8] = 4
    types[9] = 13 + 2 * (sp[CALLER_UNIT, 1] - sp[CALLER_UNIT, 0]) if sp[CALLER_UNIT, 1] > sp[CALLER_UNIT, 0] else 0
    types[10] = 13 + 2 * (sp[OUTCOME, 1] - sp[OUTCOME, 0])
    types[11] = 4 if sp[INCIDENT_ID, 1] > sp[INCIDENT_ID, 0] else 0
    body = 0
    for t in types:
        if t >= 13:
            body += int((t - 13) // 2)
        elif t == 6:
            body += 8
        elif t == 4:
            body += 4
    return types, body


@kernel
def _sqlite_pages(data: np.ndarray, spans: np.ndarray, times: np.ndarray, rang: np.ndarray, rows: np.ndarray,
                  page: int) -> np.ndarray:
    """Pages 2.. of a SQLite database image (page size ``page``) holding ``rows`` as the table whose root
    is page 2, one record per row with rowids 1..n: a single leaf, or an interior root over leaf pages 3...

    Table leaf page: type 13, cell count, content start, the cell pointers, the cells (payload length,
    rowid, record) packed from the end of the page; interior page: type 5, the right-most child, cells of
    (left child, its largest rowid). A record is its header (size, serial types) and the values: text
    bytes, integers big-endian (file format 4, https://www.sqlite.org/fileformat2.html). Rows are far
    below the overflow threshold (page - 35 bytes); the caller checks."""
    n = rows.size
    cell_len = np.empty(n, dtype=np.int64)
    for j in range(n):
        types, body = _record_parts(spans[rows[j]])
        head = 1
        for t in types:
            head += _varint_len(t)
        payload = head + body
        cell_len[j] = _varint_len(payload) + _varint_len(j + 1) + payload
    # Pack the cells into leaves in row order.
    leaf_of = np.empty(n, dtype=np.int64)
    leaves = 1
    used = 8
    for j in range(n):
        if used + 2 + cell_len[j] > page:
            leaves += 1
            used = 8
        used += 2 + cell_len[j]
        leaf_of[j] = leaves - 1
    single = leaves == 1
    pages = 1 if single else 1 + leaves
    out = np.zeros(pages * page, dtype=np.uint8)
    last_rowid = np.zeros(leaves, dtype=np.int64)
    first_cell = 0
    for leaf in range(leaves):
        base = 0 if single else (1 + leaf) * page  # page 2 is out[0:page]
        j = first_cell
        count = 0
        top = page
        while j < n and leaf_of[j] == leaf:
            top -= cell_len[j]
            k = base + top
            sp = spans[rows[j]]
            types, body = _record_parts(sp)
            head = 1
            for t in types:
                head += _varint_len(t)
            k = _varint(out, k, head + body)
            k = _varint(out, k, j + 1)
            k = _varint(out, k, head)
            for t in types:
                k = _varint(out, k, t)
            k = _put_text_raw(out, k, data, sp[CALL_ID, 0], sp[CALL_ID, 1])
            k = _put_be(out, k, times[rows[j], 0], 8)
            if types[2]:
                k = _put_be(out, k, times[rows[j], 1], 8)
            k = _put_be(out, k, times[rows[j], 2], 8)
            if types[4]:
                k = _put_be(out, k, (times[rows[j], 1] - times[rows[j], 0]) // 1_000_000, 4)
            if types[5]:
                k = _put_text_raw(out, k, data, sp[ANSWERED_BY, 0], sp[ANSWERED_BY, 1])
            k = _put_text_raw(out, k, data, sp[ROUTED_TO, 0], sp[ROUTED_TO, 1])
            k = _put_text_raw(out, k, data, sp[FIRST_UNIT, 0], sp[FIRST_UNIT, 1])
            k = _put_be(out, k, rang[rows[j]], 4)
            if types[9]:
                k = _put_text_raw(out, k, data, sp[CALLER_UNIT, 0], sp[CALLER_UNIT, 1])
            k = _put_text_raw(out, k, data, sp[OUTCOME, 0], sp[OUTCOME, 1])
            if types[11]:
                k = _put_be(out, k, _digits(data, sp[INCIDENT_ID, 0], sp[INCIDENT_ID, 1] - sp[INCIDENT_ID, 0]), 4)
            _put_be(out, base + 8 + 2 * count, top, 2)  # cell pointer
            count += 1
            j += 1
        out[base] = 13
        _put_be(out, base + 3, count, 2)
        _put_be(out, base + 5, top if top < 65536 else 0, 2)
        last_rowid[leaf] = j
        first_cell = j
    if not single:  # the interior root on page 2: leaves 0..L-2 as cells, the last one right-most
        top = page
        for leaf in range(leaves - 1):
            size = 4 + _varint_len(last_rowid[leaf])
            top -= size
            k = _put_be(out, top, leaf + 3, 4)  # leaf i is page i + 3
            _varint(out, k, last_rowid[leaf])
            _put_be(out, 12 + 2 * leaf, top, 2)
            if 12 + 2 * (leaf + 1) > top:
                return np.empty(0, dtype=np.uint8)  # more leaves than one root holds: the caller falls back
        out[0] = 5
        _put_be(out, 3, leaves - 1, 2)
        _put_be(out, 5, top if top < 65536 else 0, 2)
        _put_be(out, 8, leaves + 2, 4)
    return out


@kernel
def _put_text_raw(out: np.ndarray, k: int, data: np.ndarray, s: int, e: int) -> int:
    out[k:k + e - s] = data[s:e]
    return k + e - s


@dataclass
class PlainFile:
    """A call CSV whose shape the kernels read (see :func:`plain_file`)."""

    data: np.ndarray  # the file's bytes, ending with a line feed
    header: bytes  # the header line (without BOM and line end)
    starts: np.ndarray  # byte offset of every data line, then the end of the data
    field_of: np.ndarray  # header position of each logical column (-1: absent)
    n_fields: int

    @property
    def rows(self) -> int:
        return int(self.starts.size - 1)

    def lines(self, rows: np.ndarray) -> bytes:
        """The header and the given data lines (global row numbers), as a small CSV of its own."""
        parts = [self.header, b"\n"]
        for r in rows:
            parts.append(self.data[self.starts[r]:self.starts[r + 1]].tobytes())
        return b"".join(parts)


def plain_file(raw: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> PlainFile | None:
    """The file as a :class:`PlainFile`, or None when the kernels must not read it (see the module
    docstring; the pandas reader then reads it whole, and raises the errors it always raised)."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    end = raw.find(b"\n")
    if end <= 0:
        return None
    header = raw[:end].removesuffix(b"\r")
    if b'"' in header or b"\r" in header:
        return None
    try:
        names = [name.strip().lower() for name in header.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        return None
    if len(set(names)) != len(names) or any(c not in names for c in required):
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"
    data = np.frombuffer(raw, dtype=np.uint8)
    if (data >= 0x80).any():  # not ASCII: it must be UTF-8 throughout, cells the import does not use included
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None  # pandas refuses the whole file, with its message
    starts = _line_starts(data, end + 1, len(names) - 1, int(np.count_nonzero(data[end + 1:] == _LF)))
    if starts.size < 2:
        return None
    field_of = np.array([names.index(c) if c in names else -1 for c in columns], dtype=np.int64)
    return PlainFile(data, header, starts, field_of, len(names))


@dataclass
class Chunk:
    """The kernels' reading of rows ``[lo, hi)`` of a :class:`PlainFile` (row numbers are the file's)."""

    file: PlainFile
    lo: int
    hi: int
    plain: np.ndarray  # per row of the chunk
    spans: np.ndarray  # [row - lo, column, (start, end)] byte offsets into file.data
    times: np.ndarray  # [row - lo, (started, answered, ended)] microseconds since 1970 UTC
    rang: np.ndarray  # [row - lo] the number of units in the route (plain rows)

    def texts(self, rows: np.ndarray, column: int) -> list[str]:
        """The cells of ``column`` of the chunk's ``rows`` (chunk positions) as str (plain rows are ASCII)."""
        if not rows.size:
            return []
        return _join(self.file.data, self.spans, rows, column).tobytes().decode("ascii").split("\n")[:-1]

    def factorize(self, rows: np.ndarray, column: int) -> tuple[np.ndarray, list[str]]:
        """``(codes, distinct texts)`` of ``column`` over ``rows``; code -1 is the empty cell."""
        codes, first = _factorize(self.file.data, self.spans, rows, column)
        data = self.file.data
        return codes, [data[self.spans[r, column, 0]:self.spans[r, column, 1]].tobytes().decode("ascii")
                       for r in first]

    def by_call_id(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` (plain) in the byte order of their call ids. Written in that order, each chunk's keys go
        into the key index in one sweep instead of at random places (1M calls with random ids into
        PostgreSQL: 1.7 s sorted per chunk against 2.7-3.5 s as they came)."""
        if rows.size < 2:
            return rows
        width = int((self.spans[rows, CALL_ID, 1] - self.spans[rows, CALL_ID, 0]).max())
        keys = _id_matrix(self.file.data, self.spans, rows, width).view(f"S{width}").ravel()
        return rows[np.argsort(keys, kind="stable")]  # type: ignore[no-any-return]

    def sqlite_image(self, rows: np.ndarray) -> bytes | None:
        """A SQLite database image holding the chunk's plain ``rows`` as table :data:`STAGE_TABLE` (columns
        :data:`STAGE_COLUMNS`), for ``sqlite3.Connection.deserialize``; None when it would not fit the
        two-level tree the kernel builds."""
        # The rows' spans and times gathered in row order first: the kernel reads them twice, sequentially.
        pages = _sqlite_pages(self.file.data, self.spans[rows], self.times[rows], self.rang[rows],
                              np.arange(rows.size), SQLITE_PAGE)
        if not pages.size:
            return None
        return _sqlite_page_one(1 + pages.size // SQLITE_PAGE) + pages.tobytes()

    def copy_binary(self, rows: np.ndarray, *, demo: bool, updated_us: int) -> bytes:
        """PostgreSQL binary COPY data of the chunk's plain ``rows`` (see :func:`_copy_binary`)."""
        return _copy_binary(self.file.data, self.spans[rows], self.times[rows], self.rang[rows],
                            np.arange(rows.size), demo, updated_us).tobytes()


def _sqlite_page_one(n_pages: int) -> bytes:
    """Page 1 of the stage image: the 100-byte database header and the schema table's one row."""
    sql = f"CREATE TABLE {STAGE_TABLE}({', '.join(STAGE_COLUMNS)})".encode("ascii")
    values = [b"table", STAGE_TABLE.encode("ascii"), STAGE_TABLE.encode("ascii")]
    types = [13 + 2 * len(v) for v in values] + [1, 13 + 2 * len(sql)]  # rootpage: a 1-byte integer

    def varint(v: int) -> bytes:
        groups = [v & 0x7F]
        while v > 0x7F:
            v >>= 7
            groups.append(0x80 | (v & 0x7F))
        return bytes(reversed(groups))

    head = b"".join(varint(t) for t in types)
    head = varint(len(head) + 1) + head  # header sizes here stay below 128: one byte for the size
    record = head + b"".join(values) + bytes([2]) + sql
    cell = varint(len(record)) + varint(1) + record
    page = bytearray(SQLITE_PAGE)
    top = SQLITE_PAGE - len(cell)
    page[top:] = cell
    struct.pack_into(">16sHBBBBBBIIIIIIIIIIII20xII", page, 0, b"SQLite format 3\x00",
                     SQLITE_PAGE if SQLITE_PAGE < 65536 else 1, 1, 1, 0, 64, 32, 32,
                     1, n_pages, 0, 0, 1, 4, 0, 0, 1, 0, 0, 0, 1, 3_040_001)
    struct.pack_into(">BHHHB", page, 100, 13, 0, 1, top, 0)  # the schema table: one leaf cell
    struct.pack_into(">H", page, 108, top)
    return bytes(page)


def read_chunk(file: PlainFile, lo: int, hi: int) -> Chunk:
    """Run the row kernel over data rows ``[lo, hi)``."""
    plain, spans, times, rang = _scan(file.data, file.starts[lo:hi + 1], file.field_of, file.n_fields)
    return Chunk(file, lo, hi, plain, spans, times, rang)


def warm_up() -> None:
    """Load (or compile) every kernel of the import with the argument types the import passes, on a tiny
    file: the image build (Dockerfile) runs it so that no process compiles them (8-9 s) on its first import."""
    columns = ("call_id", "started_at", "answered_at", "ended_at", "answered_by", "routed_to", "caller_unit",
               "outcome", "incident_id")
    raw = (",".join(columns) + "\n"
           "w1,2033-03-01T09:00:00+08:00,2033-03-01T09:00:05+08:00,2033-03-01T09:01:00+08:00,A,A;B,,test,7\n"
           "w0,2033-03-01T09:00:00+08:00,,2033-03-01T09:01:00+08:00,,A,,test,\n"
           " w2,2033-03-01T09:00:00+08:00,,2033-03-01T09:01:00+08:00,,A,,test,\n").encode("ascii")
    file = plain_file(raw, columns, columns)
    assert file is not None
    chunk = read_chunk(file, 0, file.rows)
    rows = np.flatnonzero(chunk.plain)
    for column in range(N_COLUMNS):
        chunk.factorize(rows, column)
    SeenIds(file).repeats(chunk, chunk.plain, ["w2"])
    chunk.texts(rows, CALL_ID)
    ordered = chunk.by_call_id(rows)
    chunk.sqlite_image(ordered)
    chunk.copy_binary(ordered, demo=False, updated_us=0)

