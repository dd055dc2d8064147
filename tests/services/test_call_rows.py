"""The compiled call-file reader (services.call_rows) against the rules' one definition (validate_frame).

Oracle: generated files mixing plain rows with every kind of odd or bad cell (spaces, offsets, fractions,
invalid dates, routes, units, outcomes, incident ids, repeated ids across chunk boundaries, CRLF, a BOM,
shuffled and extra columns) go through ``import_calls_file`` (the kernels, small chunks) on one database
and through ``import_calls_csv`` (pandas + validate_frame, whole file) on another: the results (rows,
created, updated, every error in order) and the stored rows must be identical, on SQLite and PostGIS,
for a first import and a re-import. Plus the SQLite stage image read back by SQLite itself.
"""

from __future__ import annotations

import io
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, select

from geo_service.services import call_rows
from geo_service.services import calls as svc
from geo_service.storage import calls as store
from geo_service.storage import db
from geo_service.storage.models import Call
from tests.conftest import create_pg_database, drop_pg_database

NOW = datetime(2033, 4, 10, 12, 0, 0, 123456, tzinfo=UTC)
UNITS = ["MABES", "51", "51.01", "51.02", "31", "31.71"]


def _hierarchy() -> svc.Hierarchy:
    parents = {"MABES": None, "51": "MABES", "51.01": "51", "51.02": "51", "31": "MABES", "31.71": "31"}
    return svc.Hierarchy({c: svc.UnitNode(c, f"Unit {c}", "polda", p) for c, p in parents.items()})


def _time(rng: random.Random, t: datetime) -> str:
    """A time as a call-centre export might write it: mostly canonical, sometimes odd or wrong."""
    offset = rng.choice([7, 8, 9, 0, 0, -3, 14])
    local = t.astimezone(UTC) + timedelta(hours=offset)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        digits = rng.choice([1, 3, 6, 6, 6, 6, 7])
        text += "." + f"{t.microsecond:06d}"[:digits] + ("4" if digits == 7 else "")
    tail = "Z" if offset == 0 and rng.random() < 0.5 else f"{'+' if offset >= 0 else '-'}{abs(offset):02d}:00"
    r = rng.random() * 3  # two times in three: the canonical form
    if r < 0.03:
        return text.replace("T", " ") + tail
    if r < 0.05:
        return text  # no offset
    if r < 0.06:
        return text + tail.replace(":", "")
    if r < 0.07:
        return text + tail.lower()
    if r < 0.08:
        return " " + text + tail
    if r < 0.09:
        return "2033-02-29T10:00:00+08:00"
    if r < 0.095:
        return "1899-12-31T23:00:00+00:00"
    if r < 0.10:
        return "yesterday"
    if r < 0.105:
        return "2033-03-01T24:00:00+08:00"
    if r < 0.11:
        return "2033-03-01T10:00:00+15:00"
    return text + tail


def _row(rng: random.Random, i: int, ids: list[str]) -> dict[str, str]:
    start = datetime(2033, 3, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(31 * 86400),
                                                        microseconds=rng.choice([0, 0, 0, 500_000, 123_456]))
    route = rng.sample(UNITS, rng.choice([1, 1, 2, 3]))
    r = rng.random()
    route_text = ";".join(route)
    if r < 0.03:
        route_text = route_text.replace(";", "; ")
    elif r < 0.04:
        route_text = ";" + route_text
    elif r < 0.05:
        route_text = route_text + ";"
    elif r < 0.06:
        route_text = route_text + ";;MABES"
    elif r < 0.07:
        route_text = route_text + ";" + route[0]
    elif r < 0.08:
        route_text = route_text + ";99.99"
    elif r < 0.085:
        route_text = ";".join(UNITS * 2)
    elif r < 0.09:
        route_text = ""
    answered = rng.random() < 0.75
    ring = rng.choice([3, 9, 20, 59, 61, 600] * 4 + [86_400, 86_401, -5])
    by = rng.choice(route) if answered else ""
    if answered and rng.random() < 0.04:
        by = rng.choice(["99.99", "31.71", " " + by, ""])
    ans = start + timedelta(seconds=ring, microseconds=rng.choice([0, 250_000])) if answered else None
    if not answered and rng.random() < 0.03:
        by = route[0]
    end = (ans or start) + timedelta(seconds=rng.choice([0, 30, 400] * 5 + [86_400, -1]))
    call_id = f"c{i}"
    r = rng.random()
    if r < 0.04 and ids:
        call_id = rng.choice(ids)  # a repeat, maybe in another chunk
    elif r < 0.05 and ids:
        call_id = " " + rng.choice(ids)
    elif r < 0.06:
        call_id = f" c{i} "
    elif r < 0.065:
        call_id = ""
    elif r < 0.07:
        call_id = "x" * 81
    elif r < 0.075:
        call_id = f"é{i}"
    elif r < 0.08:
        call_id = f"c\\{i}"
    outcome = rng.choice(svc.OUTCOMES) if rng.random() < 0.95 else rng.choice(["Emergency", " prank", "shouting", ""])
    incident = rng.choice(["", "", "", "12", "7", "0", "012", "1234567890", "999999999", "x", " 7", "1٢", "１２"])
    caller = rng.choice(["", "", "", "51.01", "31", "77", " 51"])
    ids.append(call_id.strip())
    return {"call_id": call_id, "started_at": _time(rng, start), "answered_at": _time(rng, ans) if ans else "",
            "ended_at": _time(rng, end), "answered_by": by, "routed_to": route_text, "caller_unit": caller,
            "outcome": outcome, "incident_id": incident}


def _file(seed: int, n: int, *, crlf: bool = False, bom: bool = False, shuffle: bool = False,
          extra: bool = False, drop_optional: bool = False) -> bytes:
    rng = random.Random(seed)
    ids: list[str] = []
    rows = [_row(rng, i, ids) for i in range(n)]
    columns = list(svc.COLUMNS)
    if drop_optional:
        columns = [c for c in columns if c not in ("caller_unit", "incident_id")]
    if shuffle:
        rng.shuffle(columns)
    header = [c.upper() if extra else c for c in columns] + (["note"] if extra else [])
    lines = [",".join(header)]
    for row in rows:
        cells = [row[c] for c in columns] + (["seen by  Bripka é"] if extra else [])
        lines.append(",".join(cells))
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + end
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.fixture()
def two_storages(backend: str, tmp_path: Path) -> Iterator[tuple[db.Storage, db.Storage]]:
    """Two empty databases of the backend: one for the kernels' import, one for the pandas reference."""
    urls = [create_pg_database() if backend == "postgis" else f"sqlite:///{tmp_path}/{name}.sqlite3"
            for name in ("fast", "reference")]
    storages = [db.Storage(url, "postgresql" if backend == "postgis" else "sqlite") for url in urls]
    for storage in storages:
        db.upgrade(storage.engine)
    yield storages[0], storages[1]
    for storage, url in zip(storages, urls, strict=True):
        storage.engine.dispose()
        if backend == "postgis":
            drop_pg_database(url)


def _dump(storage: db.Storage) -> list[tuple[Any, ...]]:
    with storage.session() as s:
        return [tuple(getattr(c, col) for col in ("call_id", *store.CALL_COLUMNS))
                for c in s.execute(select(Call).order_by(Call.call_id)).scalars()]


def _import_both(fast: db.Storage, reference: db.Storage, raw: bytes, path: Path, *, chunk_rows: int = 7,
                 upload: bool = False, now: datetime = NOW) -> tuple[svc.ImportResult, svc.ImportResult]:
    """The kernels' import (of a file, or of an upload held in memory) and the pandas reference (a stream
    that is not ``io.BytesIO`` is read by pandas whole)."""
    path.write_bytes(raw)
    h = _hierarchy()
    with fast.transaction() as s:
        got = svc.import_calls_csv(s, io.BytesIO(raw), h, actor="t", now=now) if upload else \
            svc.import_calls_file(s, path, h, actor="t", now=now, chunk_rows=chunk_rows)
    with reference.transaction() as s:
        want = svc.import_calls_csv(s, io.BufferedReader(io.BytesIO(raw)), h, actor="t", now=now)  # type: ignore[arg-type]
    return got, want


CASES = [
    {"seed": 1},
    {"seed": 2, "crlf": True},
    {"seed": 3, "bom": True, "shuffle": True},
    {"seed": 4, "extra": True},
    {"seed": 5, "drop_optional": True, "shuffle": True},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}" for k in c if k != "seed") or "plain")
def test_kernels_import_exactly_what_validate_frame_accepts(two_storages: tuple[db.Storage, db.Storage],
                                                            tmp_path: Path, case: dict[str, Any]) -> None:
    _compare(two_storages, tmp_path, case, upload=False)


@pytest.mark.parametrize("case", CASES[1:3], ids=["crlf", "bom-shuffle"])
def test_an_upload_of_an_importer_of_every_unit_takes_the_same_path(two_storages: tuple[db.Storage, db.Storage],
                                                                    tmp_path: Path, case: dict[str, Any]) -> None:
    _compare(two_storages, tmp_path, case, upload=True)


def test_without_the_stage_schema_sqlite_gets_bound_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine made elsewhere has no ``calls_stage`` schema: the rows are bound from Python, same result."""
    urls = [f"sqlite:///{tmp_path}/{name}.sqlite3" for name in ("fast", "reference")]
    storages = [db.Storage(url, "sqlite") for url in urls]
    for storage in storages:
        db.upgrade(storage.engine)
    forms = []
    original = store.bulk_format

    def bound(session: Any) -> str:
        forms.append(original(session))
        return "columns"

    monkeypatch.setattr(store, "bulk_format", bound)
    _compare((storages[0], storages[1]), tmp_path, CASES[0], upload=False)
    for storage in storages:
        with storage.transaction() as s:
            s.execute(delete(Call))
    _mixed((storages[0], storages[1]), tmp_path)
    assert set(forms) == {"image"}
    for storage in storages:
        storage.engine.dispose()


def _compare(two_storages: tuple[db.Storage, db.Storage], tmp_path: Path, case: dict[str, Any], *,
             upload: bool) -> None:
    fast, reference = two_storages
    raw = _file(n=400, **case)
    plain = call_rows.plain_file(raw, svc.COLUMNS, svc.REQUIRED_COLUMNS)
    assert plain is not None and plain.rows == 400  # the file is read by the kernels ...
    chunk = call_rows.read_chunk(plain, 0, plain.rows)
    assert 120 < int(chunk.plain.sum()) < 390  # ... with plain rows and other rows both
    for _round in range(2):  # a first import, then the same file again (every good row an update)
        got, want = _import_both(fast, reference, raw, tmp_path / "calls.csv", upload=upload)
        assert (got.rows, got.created, got.updated) == (want.rows, want.created, want.updated)
        assert got.errors == want.errors
        assert want.created + want.updated > 100 and len(want.errors) > 50
        assert _dump(fast) == _dump(reference)


def test_a_mixed_file_updates_some_calls_and_creates_others(two_storages: tuple[db.Storage, db.Storage],
                                                            tmp_path: Path) -> None:
    _mixed(two_storages, tmp_path)


def _mixed(two_storages: tuple[db.Storage, db.Storage], tmp_path: Path) -> None:
    """The first chunks are new (plain inserts), a later chunk meets stored calls with other values (the key
    refuses the plain insert, that chunk and the rest of the import upsert)."""
    fast, reference = two_storages
    first = _file(seed=11, n=300)
    _import_both(fast, reference, first, tmp_path / "one.csv", chunk_rows=50)
    lines = first.decode().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    later = _file(seed=12, n=300).decode().splitlines(keepends=True)[1:]
    renamed = [line.replace("c", "n", 1) for line in later[:200]]  # new ids first, then repeats of `first`
    changed = [line.replace(",emergency,", ",prank,").replace(",test,", ",silent,") for line in body[:100]]
    mixed = (header + "".join(renamed) + "".join(changed)).encode()
    later_now = NOW + timedelta(days=3)
    got, want = _import_both(fast, reference, mixed, tmp_path / "two.csv", chunk_rows=50, now=later_now)
    assert (got.rows, got.created, got.updated, got.errors) == (want.rows, want.created, want.updated, want.errors)
    assert got.created > 50 and got.updated > 20
    stored = _dump(fast)
    assert stored == _dump(reference)
    # a call whose values did not change keeps its updated_at; a changed or new one has the import's
    stamps = {row[0]: row[-1] for row in stored}
    edited = {old.split(",")[0] for old, new in zip(body[:100], changed, strict=True) if old != new}
    same = {line.split(",")[0] for line in body[:100]} - edited
    assert {stamps[i] for i in edited if i in stamps} == {later_now}
    assert {stamps[i] for i in same if i in stamps} == {NOW}


def test_a_crash_mid_import_of_a_file_stores_nothing(two_storages: tuple[db.Storage, db.Storage], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _reference = two_storages
    path = tmp_path / "calls.csv"
    path.write_bytes(_file(seed=21, n=200))
    original = store.CallWriter.write
    done = {"n": 0}

    def crashing(self: store.CallWriter, session: Any, rows: store.CallRows) -> int:
        if done["n"] == 2:
            raise RuntimeError("power cut")  # two chunks reached the database, then the process dies
        done["n"] += 1
        return original(self, session, rows)

    monkeypatch.setattr(store.CallWriter, "write", crashing)
    with pytest.raises(RuntimeError), fast.transaction() as s:
        svc.import_calls_file(s, path, _hierarchy(), actor="t", chunk_rows=40)
    assert done["n"] == 2
    assert _dump(fast) == []


@pytest.mark.parametrize("raw", [
    b'call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome\n"q1",2033-03-01T09:00:00+08:00,,'
    b'2033-03-01T09:01:00+08:00,,51,abandoned\n',  # a quote anywhere
    b"call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome\nq1,2033-03-01T09:00:00+08:00,,"
    b"2033-03-01T09:01:00+08:00,,51\n",  # a short line
    b"call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome\n\nq1,2033-03-01T09:00:00+08:00,,"
    b"2033-03-01T09:01:00+08:00,,51,abandoned\n",  # a blank line
    b"call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome\rq1,2033-03-01T09:00:00+08:00,,"
    b"2033-03-01T09:01:00+08:00,,51,abandoned\r",  # old Mac line ends
    b"call_id,call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome\n",  # a repeated column
    b"call_id,started_at,answered_at,ended_at,answered_by,routed_to\nq1,2,3,4,5,6\n",  # a required column missing
    b"call_id,started_at,answered_at,ended_at,answered_by,routed_to,outcome,note\nq1,2033-03-01T09:00:00+08:00,,"
    b"2033-03-01T09:01:00+08:00,,51,test,caf\xe9\n",  # not UTF-8 (a cp1252 note): pandas refuses the file
])
def test_files_of_other_shapes_go_to_the_pandas_reader(raw: bytes, two_storages: tuple[db.Storage, db.Storage],
                                                       tmp_path: Path) -> None:
    assert call_rows.plain_file(raw, svc.COLUMNS, svc.REQUIRED_COLUMNS) is None
    fast, reference = two_storages
    path = tmp_path / "odd.csv"
    path.write_bytes(raw)
    outcomes = []
    for storage, run in ((fast, lambda s: svc.import_calls_file(s, path, _hierarchy(), actor="t", now=NOW)),
                         (reference, lambda s: svc.import_calls_csv(s, io.BufferedReader(io.BytesIO(raw)),
                                                                    _hierarchy(), actor="t", now=NOW))):
        try:
            with storage.transaction() as s:
                result = run(s)
            outcomes.append(("ok", result.rows, result.created, result.errors))
        except Exception as exc:  # noqa: BLE001 - both readers must fail alike
            outcomes.append(("error", type(exc).__name__, getattr(exc, "code", None)))
    assert outcomes[0] == outcomes[1]
    assert _dump(fast) == _dump(reference)


@pytest.mark.parametrize("n", [1, 3, 1500, 5000])
def test_the_sqlite_stage_image_is_a_sound_database(n: int) -> None:
    """One leaf (a few rows) and an interior root over many leaves (65,536-byte pages): SQLite's own
    integrity check passes and the rows read back are the kernels' values."""
    raw = _file(seed=31, n=4 * n + 20)
    plain = call_rows.plain_file(raw, svc.COLUMNS, svc.REQUIRED_COLUMNS)
    assert plain is not None
    chunk = call_rows.read_chunk(plain, 0, plain.rows)
    rows = np.flatnonzero(chunk.plain)[:n]
    assert rows.size == n
    image = chunk.sqlite_image(rows)
    assert image is not None
    conn = sqlite3.connect(":memory:")
    conn.deserialize(image)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    stored = conn.execute(f"SELECT * FROM {call_rows.STAGE_TABLE} ORDER BY rowid").fetchall()
    assert [r[0] for r in stored] == chunk.texts(rows, call_rows.CALL_ID)
    assert [r[1] for r in stored] == chunk.times[rows, 0].tolist()
    assert [r[3] for r in stored] == chunk.times[rows, 2].tolist()
    assert all(r[7] == r[6].split(";")[0] and r[8] == r[6].count(";") + 1 for r in stored)
    assert (len(image) > 65536 * 3) == (n >= 1500)  # page 1, the root, two leaves or more
    conn.close()


def test_the_import_uses_the_stage_image_on_the_embedded_default(tmp_path: Path) -> None:
    storage = db.Storage(f"sqlite:///{tmp_path}/s.sqlite3", "sqlite")
    db.upgrade(storage.engine)
    with storage.session() as s:
        assert store.bulk_format(s) == "image"
    storage.engine.dispose()


def test_plain_rows_are_written_in_call_id_byte_order() -> None:
    ids = ["b", "a10", "a", "a1", "Z", "a-9", "a1", "~x", "0"]
    raw = (",".join(svc.COLUMNS) + "\n" + "".join(
        f"{i},2033-03-01T09:00:00+08:00,,2033-03-01T09:01:00+08:00,,51,,abandoned,\n" for i in ids)).encode()
    plain = call_rows.plain_file(raw, svc.COLUMNS, svc.REQUIRED_COLUMNS)
    assert plain is not None
    chunk = call_rows.read_chunk(plain, 0, plain.rows)
    order = chunk.by_call_id(np.flatnonzero(chunk.plain))
    assert chunk.texts(order, call_rows.CALL_ID) == sorted(ids, key=str.encode)
    assert order.tolist()[:2] == [8, 4]  # "0", "Z"; the two "a1" keep their file order
    assert [i for i in order.tolist() if ids[i] == "a1"] == [3, 6]


def test_warm_up_compiles_every_kernel_an_import_calls(tmp_path: Path) -> None:
    """After ``warm_up`` (the Dockerfile runs it into the image's numba cache), an import on either
    bulk format calls no kernel with argument types it has not compiled."""
    call_rows.warm_up()
    # the kernels called from Python (the others are compiled into them)
    entries = ("_line_starts", "_scan", "_factorize", "_mark_repeats", "_join", "_id_matrix", "_copy_binary",
               "_sqlite_pages")
    kernels = {name: getattr(call_rows, name) for name in entries}
    before = {name: len(k.signatures) for name, k in kernels.items()}
    assert all(before.values())
    path = tmp_path / "calls.csv"
    path.write_bytes(_file(seed=41, n=300, crlf=True))
    chunk = call_rows.read_chunk(call_rows.plain_file(path.read_bytes(), svc.COLUMNS,  # type: ignore[arg-type]
                                                      svc.REQUIRED_COLUMNS), 0, 300)
    rows = np.flatnonzero(chunk.plain)
    chunk.copy_binary(chunk.by_call_id(rows), demo=True, updated_us=1)
    storage = db.Storage(f"sqlite:///{tmp_path}/w.sqlite3", "sqlite")
    db.upgrade(storage.engine)
    with storage.transaction() as s:
        svc.import_calls_file(s, path, _hierarchy(), actor="t", now=NOW, chunk_rows=100)
    storage.engine.dispose()
    assert {name: len(k.signatures) for name, k in kernels.items()} == before


def test_a_written_chunk_is_freed_without_the_garbage_collector(tmp_path: Path) -> None:
    """The SQLite image is built by a closure kept on the batch; the write drops it, so no reference cycle
    keeps the chunk (and its image) alive after its write."""
    import gc
    import weakref

    path = tmp_path / "calls.csv"
    path.write_bytes(_file(seed=51, n=400))
    chunks: list[weakref.ref[Any]] = []
    original = call_rows.read_chunk

    def tracked(file: Any, lo: int, hi: int) -> Any:
        chunk = original(file, lo, hi)
        chunks.append(weakref.ref(chunk))
        return chunk

    storage = db.Storage(f"sqlite:///{tmp_path}/g.sqlite3", "sqlite")
    db.upgrade(storage.engine)
    gc.disable()
    try:
        call_rows.read_chunk, saved = tracked, call_rows.read_chunk  # type: ignore[assignment]
        with storage.transaction() as s:
            svc.import_calls_file(s, path, _hierarchy(), actor="t", now=NOW, chunk_rows=50)
        alive = [ref() is not None for ref in chunks]
    finally:
        call_rows.read_chunk = saved  # type: ignore[assignment]
        gc.enable()
        storage.engine.dispose()
    assert len(alive) == 8 and not any(alive)
