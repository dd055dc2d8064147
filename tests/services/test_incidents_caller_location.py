"""services.incidents.apply_caller_location on both backends: the optimistic version check holds
when a dispatcher changes the incident between the read and the write (the caller's answer is
decided again on the fresh row, never written over the dispatcher's change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from geo_service.services import incidents as svc
from geo_service.services.locate import locate_location
from tests.services.test_incidents import _index, _storage, create, patch

T0 = datetime(2031, 7, 7, 2, 0, tzinfo=UTC)
NEGARA = {"lat": -8.3582361, "lon": 114.6197917}


def _answer(app: Any) -> dict[str, Any]:
    return locate_location({**NEGARA, "uncertainty_m": 12.0}, _index(app))


def _apply(app: Any, incident_id: int, requested_at: datetime, now: datetime) -> Any:
    with _storage(app).transaction() as s:
        return svc.apply_caller_location(s, incident_id, _answer(app), _index(app), raw_location=NEGARA,
                                         requested_at=requested_at, source="gps", accuracy_m=12.0, now=now)


def _race(app: Any, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], at: datetime) -> None:
    """Let a dispatcher's PATCH commit right after the caller's side read the incident, once."""
    real = svc._why_not_moved
    done: list[bool] = []

    def racing(session: Any, incident: Any, **kw: Any) -> str | None:
        if not done:
            done.append(True)
            patch(app, incident.id, {**change, "version": incident.version}, at)
        return real(session, incident, **kw)

    monkeypatch.setattr(svc, "_why_not_moved", racing)


def test_a_note_written_meanwhile_does_not_stop_the_move(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    inc = create(app, "51.71.01", T0)
    _race(app, monkeypatch, {"note": "caller calls again"}, T0 + timedelta(minutes=2))
    moved = _apply(app, inc.id, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))
    assert moved.version == 3 and (moved.lon, moved.lat) == (NEGARA["lon"], NEGARA["lat"])
    with _storage(app).session() as s:
        events = svc.list_events(s, inc.id)
    assert [(e.kind, e.version) for e in events] == [("created", 1), ("note", 2), ("location", 3)]
    assert svc.replay_events(events)["unit_code"] == moved.unit_code != inc.unit_code  # the log rebuilds it


def test_a_reassignment_made_meanwhile_is_kept(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    inc = create(app, "51.71.01", T0 + timedelta(days=1))
    _race(app, monkeypatch, {"unit_code": "51.71.02", "note": "moved by the desk"}, T0 + timedelta(days=1, minutes=2))
    kept = _apply(app, inc.id, T0 + timedelta(days=1, minutes=1), T0 + timedelta(days=1, minutes=3))
    assert kept.version == 3 and kept.unit_code == "51.71.02" and kept.lon != NEGARA["lon"]
    with _storage(app).session() as s:
        events = svc.list_events(s, inc.id)
    assert [e.kind for e in events] == ["created", "reassign", "note"]
    assert "not applied" in (events[-1].note or "") and events[-1].actor == "caller"
    assert svc.replay_events(events)["unit_code"] == "51.71.02"
