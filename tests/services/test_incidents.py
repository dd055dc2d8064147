"""Incident log service: creation, workflow, optimistic locking (incl. real concurrency), lists, CSV, demo data.

Runs on the shared app of both backends; every test uses its own time window (year 2030) so
that filters isolate its data.
"""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from geo_service.errors import BadRequest, Conflict, Forbidden, InvalidInput
from geo_service.services import incidents as svc
from geo_service.storage.models import AuditLog, Incident, IncidentEvent

T0 = datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 WITA


def _storage(app: Any) -> Any:
    return app.extensions["geo_service"].storage


def _index(app: Any) -> Any:
    return app.extensions["geo_service"].holder.current()


def body_at(idx: Any, code: str, reported: datetime, category: str = "pencurian", **extra: Any) -> dict[str, Any]:
    lon, lat = idx.reference_point(code)
    return {"location": {"lat": lat, "lon": lon}, "category": category, "description": "uji",
            "reported_at": reported.isoformat(), "channel": "call_110", **extra}


def create(app: Any, code: str, reported: datetime, **kw: Any) -> Incident:
    idx = _index(app)
    with _storage(app).transaction() as s:
        return svc.create_incident(s, body_at(idx, code, reported, **kw), idx, actor="test:disp", now=reported)


def patch(app: Any, incident_id: int, body: dict[str, Any], now: datetime, scope: str | None = None) -> Incident:
    with _storage(app).transaction() as s:
        return svc.update_incident(s, incident_id, body, _index(app), actor="test:disp", now=now, scope=scope)


def test_create_locates_and_records_event_and_audit(app: Any) -> None:
    idx = _index(app)
    reported = (T0 + timedelta(days=1)).astimezone(ZoneInfo("Asia/Makassar"))
    inc = create(app, "51.71.01", reported)
    assert inc.status == "belum_ditangani" and inc.version == 1
    assert (inc.polda_code, inc.polres_code, inc.polsek_code, inc.unit_code) == ("51", "51.71", "51.71.01", "51.71.01")
    assert inc.reported_utc_offset_min == 480 and inc.geom is not None and inc.boundary_set_id == idx.set_id
    with _storage(app).session() as s:
        events = svc.list_events(s, inc.id)
        assert [(e.kind, e.to_status, e.to_unit, e.version) for e in events] == [
            ("created", "belum_ditangani", "51.71.01", 1)]
        audits = s.execute(select(AuditLog).where(AuditLog.target_type == "incident",
                                                  AuditLog.target_id == str(inc.id))).scalars().all()
        assert [a.action for a in audits] == ["incident.create"]
        out = svc.incident_to_dict(s.get(Incident, inc.id), idx, now=reported, overdue_minutes=60)
    assert out["reported_at"] == reported.isoformat()
    assert out["unit"]["polres"] == {"code": "51.71", "name": "Polresta Denpasar"}
    assert out["location"]["jurisdiction"]["polsek"]["code"] == "51.71.01" and "notice" not in out


def test_invalid_location_still_creates_unassigned_incident(app: Any) -> None:
    idx = _index(app)
    body = {"location": {"text": "di depan pura dekat pasar"}, "category": "lainnya",
            "reported_at": "2030-03-05T09:00:00+08:00", "channel": "call_110"}
    with _storage(app).transaction() as s:
        inc = svc.create_incident(s, body, idx, actor="t")
        out = svc.incident_to_dict(inc, idx, now=inc.reported_at, overdue_minutes=60)
    assert inc.unit_code is None and inc.lon is None and inc.geom is None and inc.status == "belum_ditangani"
    assert out["unit"] == {"polda": None, "polres": None, "polsek": None}
    assert out["location"]["status"] == "invalid" and "without a unit" in out["notice"]


@pytest.mark.parametrize(("patch_body", "exc", "pointer"), [
    ({"reported_at": "2030-03-05T09:00:00"}, InvalidInput, "/reported_at"),
    ({"reported_at": "kemarin"}, InvalidInput, "/reported_at"),
    ({"category": "perampokan"}, InvalidInput, "/category"),
    ({"channel": "fax"}, InvalidInput, "/channel"),
    ({"location": None}, BadRequest, "/location"),
    ({"location": {"lat": "x", "lon": 115.2}}, BadRequest, "/location/lat"),
    ({"reported_at": 5}, BadRequest, "/reported_at"),
])
def test_malformed_bodies_are_refused_with_pointers(app: Any, patch_body: dict[str, Any],
                                                    exc: type[BadRequest | InvalidInput],
                                                    pointer: str) -> None:
    idx = _index(app)
    body = {**body_at(idx, "51.71.01", T0), **patch_body}
    with _storage(app).session() as s, pytest.raises(exc) as info:
        svc.create_incident(s, body, idx, actor="t")
    assert pointer in [e["pointer"] for e in info.value.errors]


def test_naive_time_code() -> None:
    with pytest.raises(InvalidInput) as info:
        svc.parse_aware_datetime("2030-03-05T09:00:00", "/reported_at")
    assert info.value.code == "NAIVE_DATETIME"
    assert svc.parse_aware_datetime("2030-03-05T01:00:00Z", "/x") == datetime(2030, 3, 5, 1, tzinfo=UTC)


ALLOWED = {("belum_ditangani", "dalam_proses"), ("belum_ditangani", "dibatalkan"),
           ("dalam_proses", "selesai"), ("dalam_proses", "dibatalkan")}


@pytest.mark.parametrize("current", svc.STATUSES)
@pytest.mark.parametrize("new", svc.STATUSES)
def test_transition_table(current: str, new: str) -> None:
    if (current, new) in ALLOWED:
        svc.check_transition(current, new)
    else:
        with pytest.raises(Conflict) as info:
            svc.check_transition(current, new)
        assert info.value.code == "INVALID_TRANSITION" and info.value.status == 409
        assert current in info.value.detail and new in info.value.detail


def test_workflow_times_events_and_log_replay(app: Any) -> None:
    t = T0 + timedelta(days=2)
    inc = create(app, "51.03.01" if "51.03.01" in _index(app).units else "51.71.02", t)
    inc = patch(app, inc.id, {"version": 1, "note": "menghubungi pelapor"}, t + timedelta(minutes=2))
    assert inc.version == 2 and inc.first_action_at is None  # a note is not a status change
    inc = patch(app, inc.id, {"version": 2, "status": "dalam_proses"}, t + timedelta(minutes=7))
    assert inc.first_action_at == t + timedelta(minutes=7) and inc.done_at is None
    inc = patch(app, inc.id, {"version": 3, "status": "selesai", "note": "beres"}, t + timedelta(minutes=50))
    assert inc.status == "selesai" and inc.version == 4 and inc.done_at == t + timedelta(minutes=50)
    assert inc.first_action_at == t + timedelta(minutes=7)
    for body in ({"version": 4, "status": "dalam_proses"}, {"version": 4, "status": "dibatalkan"},
                 {"version": 4, "unit_code": "51.71", "note": "pindah"}):
        with pytest.raises(Conflict) as info:
            patch(app, inc.id, body, t + timedelta(hours=1))
        assert info.value.code == "INVALID_TRANSITION"
    with _storage(app).session() as s:
        events = svc.list_events(s, inc.id)
        row = s.get(Incident, inc.id)
        assert [(e.kind, e.from_status, e.to_status, e.note, e.version, e.actor) for e in events] == [
            ("created", None, "belum_ditangani", None, 1, "test:disp"),
            ("note", None, None, "menghubungi pelapor", 2, "test:disp"),
            ("status", "belum_ditangani", "dalam_proses", None, 3, "test:disp"),
            ("status", "dalam_proses", "selesai", "beres", 4, "test:disp"),
        ]
        replay = svc.replay_events(events)
        assert (replay["status"], replay["unit_code"], replay["first_action_at"], replay["done_at"],
                replay["version"]) == (row.status, row.unit_code, row.first_action_at, row.done_at, row.version)
        n_audit = len(s.execute(select(AuditLog).where(AuditLog.target_id == str(inc.id),
                                                       AuditLog.action == "incident.update")).scalars().all())
        assert n_audit == 3


def test_cancel_counts_as_first_action(app: Any) -> None:
    t = T0 + timedelta(days=2, hours=3)
    inc = create(app, "51.71.03", t)
    inc = patch(app, inc.id, {"version": 1, "status": "dibatalkan", "note": "laporan palsu"}, t + timedelta(minutes=4))
    assert inc.first_action_at == t + timedelta(minutes=4) and inc.done_at is None


def test_reassignment_rules(app: Any) -> None:
    t = T0 + timedelta(days=3)
    inc = create(app, "51.71.01", t)
    with pytest.raises(InvalidInput) as info:
        patch(app, inc.id, {"version": 1, "unit_code": "51.02"}, t)
    assert info.value.code == "NOTE_REQUIRED"
    with pytest.raises(InvalidInput) as info:
        patch(app, inc.id, {"version": 1, "unit_code": "99.99", "note": "x"}, t)
    assert info.value.code == "UNKNOWN_UNIT"
    with pytest.raises(InvalidInput) as info:
        patch(app, inc.id, {"version": 1, "unit_code": "51.71.01", "note": "x"}, t)
    assert info.value.code == "UNIT_UNCHANGED"
    polsek = _index(app).children("51.02")[0].code
    inc = patch(app, inc.id, {"version": 1, "unit_code": polsek, "note": "lokasi sebenarnya di Tabanan"},
                t + timedelta(minutes=3))
    assert (inc.polda_code, inc.polres_code, inc.polsek_code, inc.unit_code) == ("51", "51.02", polsek, polsek)
    assert inc.first_action_at is None and inc.status == "belum_ditangani"
    inc = patch(app, inc.id, {"version": 2, "unit_code": "51.02", "note": "ke Polres"}, t + timedelta(minutes=4))
    assert (inc.polres_code, inc.polsek_code, inc.unit_code) == ("51.02", None, "51.02")
    with _storage(app).session() as s:
        ev = svc.list_events(s, inc.id)
        assert [(e.kind, e.from_unit, e.to_unit) for e in ev[1:]] == [
            ("reassign", "51.71.01", polsek), ("reassign", polsek, "51.02")]
        assert svc.replay_events(ev)["unit_code"] == "51.02"
    # A dispatcher scoped to Polresta Denpasar no longer may touch it.
    with pytest.raises(Forbidden):
        patch(app, inc.id, {"version": 3, "note": "x"}, t, scope="51.71")


def test_update_body_errors(app: Any) -> None:
    inc = create(app, "51.71.01", T0 + timedelta(days=3, hours=1))
    for body, code in (({"status": "dalam_proses"}, "VERSION_REQUIRED"), ({"version": 1}, "NOTHING_TO_CHANGE"),
                       ({"version": "1", "status": "selesai"}, "VERSION_REQUIRED"),
                       ({"version": 1, "status": "done"}, "BAD_REQUEST"),
                       ({"version": 1, "colour": "red"}, "BAD_REQUEST")):
        with pytest.raises(BadRequest) as info:
            patch(app, inc.id, body, T0)
        assert info.value.code == code


def test_same_version_twice_exactly_one_wins(app: Any) -> None:
    t = T0 + timedelta(days=4)
    inc = create(app, "51.71.04", t)
    patch(app, inc.id, {"version": 1, "status": "dalam_proses"}, t + timedelta(minutes=1))
    with pytest.raises(Conflict) as info:
        patch(app, inc.id, {"version": 1, "status": "dibatalkan"}, t + timedelta(minutes=2))
    assert info.value.code == "STALE_VERSION" and info.value.extra["current_version"] == 2


def test_conditional_update_blocks_a_concurrent_writer(app: Any) -> None:
    """B reads version 1 while A's update is not yet committed: B must wait and then lose (409)."""
    t = T0 + timedelta(days=4, hours=1)
    inc = create(app, "51.71.02", t)
    storage, idx = _storage(app), _index(app)
    a_flushed, results = threading.Event(), {}

    def writer_a() -> None:
        with storage.transaction() as s:
            svc.update_incident(s, inc.id, {"version": 1, "status": "dalam_proses"}, idx, actor="A", now=t)
            a_flushed.set()
            threading.Event().wait(0.4)  # hold the row lock while B tries
        results["A"] = "ok"

    def writer_b() -> None:
        a_flushed.wait(10)
        try:
            with storage.transaction() as s:
                svc.update_incident(s, inc.id, {"version": 1, "status": "dibatalkan", "note": "B"}, idx,
                                    actor="B", now=t)
            results["B"] = "ok"
        except Conflict as exc:
            results["B"] = exc.code

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert results == {"A": "ok", "B": "STALE_VERSION"}
    with storage.session() as s:
        row = s.get(Incident, inc.id)
        assert (row.status, row.version) == ("dalam_proses", 2)
        assert [e.actor for e in svc.list_events(s, inc.id)] == ["test:disp", "A"]


def test_threads_racing_on_one_version(app: Any) -> None:
    t = T0 + timedelta(days=4, hours=2)
    inc = create(app, "51.71.03", t)
    storage, idx = _storage(app), _index(app)
    n = 4
    barrier, outcomes = threading.Barrier(n), []
    lock = threading.Lock()

    def race(i: int) -> None:
        barrier.wait(10)
        try:
            with storage.transaction() as s:
                svc.update_incident(s, inc.id, {"version": 1, "note": f"racer {i}"}, idx, actor=f"r{i}", now=t)
            out = "ok"
        except Conflict as exc:
            out = exc.code
        with lock:
            outcomes.append(out)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(outcomes) == ["STALE_VERSION"] * (n - 1) + ["ok"]
    with storage.session() as s:
        assert s.get(Incident, inc.id).version == 2
        notes = s.execute(select(IncidentEvent).where(IncidentEvent.incident_id == inc.id,
                                                      IncidentEvent.kind == "note")).scalars().all()
        assert len(notes) == 1


def test_list_filters_paging_overdue_and_csv(app: Any) -> None:
    base = datetime(2030, 6, 10, 0, 0, tzinfo=UTC)
    window = svc.IncidentQuery(date_from=base, date_to=base + timedelta(days=1))
    made = [
        create(app, "51.71.01", base + timedelta(hours=1), category="kebakaran"),
        create(app, "51.71.02", base + timedelta(hours=2)),
        create(app, _index(app).children("51.02")[0].code, base + timedelta(hours=3)),
        create(app, "51.71.01", base + timedelta(hours=4), category="kebakaran"),
    ]
    patch(app, made[1].id, {"version": 1, "status": "dalam_proses"}, base + timedelta(hours=2, minutes=5))
    now = base + timedelta(hours=4, minutes=30)  # made[0], made[2] are > 60 min old and unhandled
    with _storage(app).session() as s:
        def ids(**kw: Any) -> list[int]:
            q = svc.IncidentQuery(**{**window.__dict__, **kw})
            return [i.id for i in svc.list_incidents(s, q, now=now, overdue_minutes=60, per_page=500)[0]]

        assert ids() == [m.id for m in reversed(made)]
        assert ids(unit="51.71") == [made[3].id, made[1].id, made[0].id]
        assert ids(unit="51.71.01") == [made[3].id, made[0].id]
        assert ids(unit="51") == ids()
        assert ids(unit="51.7") == []  # prefix means whole code segments
        assert ids(status="dalam_proses") == [made[1].id]
        assert ids(category="kebakaran") == [made[3].id, made[0].id]
        assert ids(overdue=True) == [made[2].id, made[0].id]
        assert ids(overdue=False) == [made[3].id, made[1].id]
        assert ids(date_from=base + timedelta(hours=2), date_to=base + timedelta(hours=4)) == [made[2].id, made[1].id]
        page2, total = svc.list_incidents(s, window, now=now, overdue_minutes=60, page=2, per_page=3)
        assert total == 4 and [i.id for i in page2] == [made[0].id]
        rows = list(svc.iter_incidents(s, window, now=now, overdue_minutes=60))
        text = svc.incidents_csv(rows, _index(app), now=now, overdue_minutes=60)
        items = [svc.incident_to_dict(r, _index(app), now=now, overdue_minutes=60) for r in rows]
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in parsed] == [i["id"] for i in items]
    for r, item in zip(parsed, items, strict=True):
        assert r["status"] == item["status"] and r["reported_at"] == item["reported_at"]
        assert r["unit_code"] == item["unit_code"] and (r["overdue"] == "true") == item["overdue"]
        assert float(r["lon"]) == item["point"]["lon"] and r["polres_code"] == (item["unit"]["polres"] or {})["code"]


def test_scope_helpers() -> None:
    assert svc.code_in_scope("51.71.01", "51.71") and svc.code_in_scope("51.71", "51.71")
    assert not svc.code_in_scope("51.710", "51.71") and not svc.code_in_scope(None, "51")
    assert svc.effective_unit(None, "51.71") == "51.71" and svc.effective_unit("51.71.02", "51.71") == "51.71.02"
    assert svc.effective_unit("51.03", None) == "51.03"
    for bad in ("51.03", "51"):
        with pytest.raises(Forbidden):
            svc.effective_unit(bad, "51.71")


def test_csv_cells_cannot_inject_formulas(app: Any) -> None:
    inc = create(app, "51.71.01", datetime(2030, 7, 1, tzinfo=UTC))
    with _storage(app).transaction() as s:
        row = s.get(Incident, inc.id)
        row.description = "=HYPERLINK(\"http://x\")"
        text = svc.incidents_csv([row], _index(app), now=T0, overdue_minutes=60)
    assert list(csv.DictReader(io.StringIO(text)))[0]["description"].startswith("'=")


def test_demo_seed_is_deterministic_and_clear_removes_only_demo(app: Any) -> None:
    storage, idx = _storage(app), _index(app)
    keep = create(app, "51.71.01", datetime(2030, 8, 1, tzinfo=UTC))
    now = datetime(2030, 8, 15, 4, 0, tzinfo=UTC)  # Thursday noon WITA
    with storage.transaction() as s:
        ids = svc.seed_demo_incidents(s, idx, count=30, seed=7, now=now)
        first = [(i.category, i.unit_code, i.reported_at, i.status)
                 for i in s.execute(select(Incident).where(Incident.id.in_(ids)).order_by(Incident.id)).scalars()]
    assert len(first) == 30
    assert all(code is not None and code.startswith("51.") for _c, code, _r, _s in first)
    assert len({st for *_x, st in first}) >= 3
    start = datetime(2030, 8, 4, 16, 0, tzinfo=UTC)  # Monday of the previous week, 00:00 WITA
    assert all(start <= r < now for _c, _u, r, _s in first)
    with storage.transaction() as s:
        assert svc.clear_demo_incidents(s) == 30
        ids2 = svc.seed_demo_incidents(s, idx, count=30, seed=7, now=now)
        second = [(i.category, i.unit_code, i.reported_at, i.status)
                  for i in s.execute(select(Incident).where(Incident.id.in_(ids2)).order_by(Incident.id)).scalars()]
        assert all(i.description.startswith("[DEMO] ") and i.demo
                   for i in s.execute(select(Incident).where(Incident.id.in_(ids2))).scalars())
    assert second == first
    with storage.transaction() as s:
        assert svc.clear_demo_incidents(s) == 30
    with storage.session() as s:
        assert s.get(Incident, keep.id) is not None
        assert s.execute(select(Incident).where(Incident.demo.is_(True))).first() is None
        assert s.execute(select(IncidentEvent).where(IncidentEvent.incident_id.in_(ids2))).first() is None
