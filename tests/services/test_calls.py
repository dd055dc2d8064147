"""Call Center 110 evaluation: exact figures on a constructed month of calls and incidents (March 2033),
on SQLite and PostGIS: overflow chains, unanswered calls, WIB/WITA/WIT day and week boundaries, ranks,
re-imports, all-or-nothing imports; and the response times from the milestones.

The hierarchy is the bundled Bali set (Polda 51) with MABES above it, plus Polda 31 (DKI, WIB) with Polres
31.71 and Polda 94 (Papua, WIT), so that the national ranking has several Polda.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from geo_service.errors import BadRequest, InvalidInput
from geo_service.services import calls as svc
from geo_service.services import incidents as incident_service
from geo_service.services import milestones as ms
from geo_service.storage import calls as store

HEADER = "call_id,started_at,answered_at,ended_at,answered_by,routed_to,caller_unit,outcome,incident_id\n"
NOW = datetime(2033, 4, 10, 12, 0, tzinfo=UTC)


def _hierarchy(app: Any) -> svc.Hierarchy:
    base = svc.Hierarchy.from_index(app.extensions["geo_service"].holder.current())
    nodes = dict(base.nodes)
    nodes["31"] = svc.UnitNode("31", "Polda Metro Jaya", "polda", "MABES")
    nodes["31.71"] = svc.UnitNode("31.71", "Polres Metro Jakarta Pusat", "polres", "31")
    nodes["94"] = svc.UnitNode("94", "Polda Papua", "polda", "MABES")
    return svc.Hierarchy(nodes)


def _row(call_id: str, start: str, answer_s: int | None, by: str, routed: str, outcome: str,
         caller: str = "", incident: str = "") -> str:
    t0 = datetime.fromisoformat(start)
    answered = (t0 + timedelta(seconds=answer_s)).isoformat() if answer_s is not None else ""
    ended = (t0 + timedelta(seconds=(answer_s or 0) + 60)).isoformat()
    return f"{call_id},{start},{answered},{ended},{by},{routed},{caller},{outcome},{incident}\n"


MONTH = [
    ("c1", "2033-03-02T09:00:00+08:00", 5, "51.71.01", "51.71.01", "emergency"),
    ("c2", "2033-03-03T09:00:00+08:00", 25, "51", "51.71;51;MABES", "information"),
    ("c3", "2033-03-04T09:00:00+08:00", None, "", "51.71;51", "abandoned"),
    ("c4", "2033-03-05T09:00:00+08:00", 12, "51.02", "51.02", "prank"),
    ("c5", "2033-03-08T09:00:00+07:00", 40, "MABES", "31.71;31;MABES", "silent"),
    ("c6", "2033-03-09T09:00:00+07:00", 8, "31.71", "31.71", "silent"),
    ("c7", "2033-03-22T09:00:00+07:00", 3, "MABES", "MABES", "complaint"),
    ("c8", "2033-03-23T09:00:00+07:00", None, "", "MABES", "abandoned"),
    ("c9", "2033-03-24T09:00:00+09:00", 18, "94", "94", "misdial"),
    # 1 April 00:30 WITA = 31 March 23:30 WIB: April for Polda Bali, March for Mabes
    ("c10", "2033-04-01T00:30:00+08:00", 6, "51.02", "51.02", "emergency"),
    # 1 March 00:30 WITA = 28 February 23:30 WIB: March for Polda Bali, February for Mabes
    ("c11", "2033-03-01T00:30:00+08:00", None, "", "51.71.01", "abandoned"),
    ("c12", "2033-03-10T10:00:00+07:00", None, "", "31.71;31", "abandoned"),
    # Monday 14 March 00:30 WITA = Sunday 13 March 23:30 WIB: week 11 in Bali, week 10 for Mabes
    ("c13", "2033-03-14T00:30:00+08:00", 4, "51.02", "51.02", "test"),
]
BAD = [
    "bad1,2033-03-02T09:00:00,,2033-03-02T09:01:00+08:00,,51.71,,emergency,\n",  # no offset
    "bad2,2033-03-02T09:00:00+08:00,,2033-03-02T09:01:00+08:00,,99.99,,emergency,\n",  # unknown unit
    "bad3,2033-03-02T09:00:00+08:00,2033-03-02T09:00:05+08:00,2033-03-02T09:01:00+08:00,51.02,51.71,,prank,\n",
    "bad4,2033-03-02T09:00:00+08:00,,2033-03-02T09:01:00+08:00,,51.71,,shouting,x\n",
]


@pytest.fixture(scope="module")
def month(app: Any) -> dict[str, Any]:
    """The constructed month imported once per backend, plus three incidents with milestones."""
    storage = app.extensions["geo_service"].storage
    idx = app.extensions["geo_service"].holder.current()
    hierarchy = _hierarchy(app)
    text = HEADER + "".join(_row(f"m-{c}", *rest) for c, *rest in MONTH[:3]) + "".join(BAD) + \
        "".join(_row(f"m-{c}", *rest) for c, *rest in MONTH[3:])
    with storage.transaction() as s:
        result = svc.import_calls_csv(s, io.StringIO(text), hierarchy, actor="t", now=NOW)
    incidents = {}

    def incident(name: str, code: str, reported: str, steps: list[tuple[str, int, float]]) -> None:
        lon, lat = idx.reference_point(code)
        t0 = datetime.fromisoformat(reported)
        body = {"location": {"lat": lat, "lon": lon}, "category": "kecelakaan", "reported_at": reported,
                "channel": "call_110", "description": name}
        with storage.transaction() as s:
            inc = incident_service.create_incident(s, body, idx, actor="t", now=t0)
            for kind, after_s, north_m in steps:
                ms.record_milestone(s, inc.id, {"kind": kind, "lat": lat + north_m / 111_320, "lon": lon,
                                                "key": f"{name}-{kind}-key"},
                                    actor="officer", index=idx, now=t0 + timedelta(seconds=after_s))
            incidents[name] = inc.id

    incident("i1", "51.71.01", "2033-03-05T10:00:00+08:00",
             [("dispatched", 60, 0), ("acknowledged", 90, 0), ("on_scene", 480, 0), ("done", 1800, 0)])
    incident("i2", idx.children("51.02")[0].code, "2033-03-06T10:00:00+08:00",
             [("dispatched", 120, 0), ("on_scene", 900, 1000)])
    incident("i3", "51.71.01", "2033-03-07T10:00:00+08:00", [])
    return {"import": result, "hierarchy": hierarchy, "incidents": incidents}


def _report(app: Any, data: dict[str, Any], unit: str, **period: str) -> dict[str, Any]:
    storage = app.extensions["geo_service"].storage
    with storage.session() as s:
        return svc.calls_report(s, data["hierarchy"], unit_code=unit, now=NOW, **period)


def test_import_reports_every_bad_row_with_line_column_reason(month: dict[str, Any]) -> None:
    result = month["import"]
    assert (result.rows, result.created, result.updated) == (17, 13, 0)
    errors = {(e["row"], e["column"]) for e in result.errors}
    assert errors == {(5, "started_at"), (6, "routed_to"), (7, "answered_by"), (8, "outcome"), (8, "incident_id")}
    assert [e["detail"] for e in result.errors if e["row"] == 6] == ["unknown unit code(s): 99.99"]


def test_national_month_exact(app: Any, month: dict[str, Any]) -> None:
    r = _report(app, month, "MABES", month="2033-03")
    assert r["unit"] == {"code": "MABES", "name": "Mabes Polri", "level": "mabes"}
    assert (r["from"], r["to"], r["timezone_label"]) == ("2033-03-01", "2033-03-31", "WIB")
    c = r["calls"]
    assert (c["offered"], c["answered"], c["not_answered"], c["answer_rate"]) == (12, 9, 3, 0.75)
    assert c["answered_within_s"] == {"10": 0.4167, "15": 0.5, "20": 0.5833}
    assert (c["median_s_to_answer"], c["p90_s_to_answer"]) == (8.0, 40)
    assert c["by_outcome"] == {"emergency": 2, "information": 1, "complaint": 1, "prank": 1, "silent": 2,
                               "misdial": 1, "abandoned": 3, "test": 1}
    assert (c["abandoned"], c["prank_share"], c["silent_share"]) == (3, 0.0833, 0.1667)
    # Overflow = answered higher up than the first unit rung. Of the 12 calls (c1-c10, c12, c13) two were:
    # c2 (51.71;51;MABES answered by 51) and c5 (31.71;31;MABES answered by MABES). c3 (51.71;51) and c12
    # (31.71;31) also rang two lines but nobody answered: not overflow. 2 / 12 = 0.1667.
    assert (c["overflow"], c["overflow_share"], c["answered_above"]) == (2, 0.1667, 0)
    kids = {k["unit"]["code"]: k for k in r["children"]}
    assert [k["unit"]["code"] for k in r["children"]] == ["51", "31", "MABES", "94"]
    assert kids["MABES"]["unit"]["own_line"] is True
    assert {code: (k["calls"]["offered"], k["calls"]["answered"], k["calls"]["answer_rate"])
            for code, k in kids.items()} == {"51": (6, 5, 0.8333), "31": (3, 1, 0.3333), "MABES": (2, 1, 0.5),
                                             "94": (1, 1, 1.0)}
    assert kids["31"]["calls"]["answered_above"] == 1  # c5: Polda 31 did not answer, Mabes did
    assert {code: (k["rank_by_volume"], k["rank_by_not_answered"]) for code, k in kids.items()} == {
        "51": (1, 2), "31": (2, 1), "MABES": (3, 3), "94": (4, 4)}
    assert r["top_by_volume"] == ["51", "31", "MABES", "94"]
    assert r["most_not_answered"] == ["31", "51", "MABES"]
    assert r["below_half_answered"] == ["31"]


def test_polda_month_overflow_counts_as_not_answered_below(app: Any, month: dict[str, Any]) -> None:
    r = _report(app, month, "51", month="2033-03")
    assert r["timezone_label"] == "WITA"
    c = r["calls"]
    assert (c["offered"], c["answered"], c["not_answered"], c["answer_rate"]) == (6, 4, 2, 0.6667)
    assert (c["median_s_to_answer"], c["p90_s_to_answer"]) == (8.5, 25)
    kids = {k["unit"]["code"]: k for k in r["children"]}
    denpasar = kids["51.71"]["calls"]
    # c2 rang Polresta Denpasar first and was answered by the Polda after overflow: not answered for 51.71
    assert (denpasar["offered"], denpasar["answered"], denpasar["not_answered"], denpasar["answered_above"]) == \
        (4, 1, 3, 1)
    assert (denpasar["answer_rate"], denpasar["median_s_to_answer"]) == (0.25, 5.0)
    assert (kids["51.02"]["calls"]["offered"], kids["51.02"]["calls"]["answer_rate"]) == (2, 1.0)
    assert kids["51.01"]["calls"]["offered"] == 0 and kids["51.01"]["calls"]["answer_rate"] is None
    assert [k["unit"]["code"] for k in r["children"]][:3] == ["51.71", "51.02", "51.01"]
    assert r["top_by_volume"] == ["51.71", "51.02"]
    assert r["most_not_answered"] == ["51.71"] and r["below_half_answered"] == ["51.71"]


def test_day_and_week_boundaries_follow_the_units_zone(app: Any, month: dict[str, Any]) -> None:
    assert _report(app, month, "51", date_from="2033-04-01", date_to="2033-04-01")["calls"]["offered"] == 1
    assert _report(app, month, "MABES", date_from="2033-04-01", date_to="2033-04-01")["calls"]["offered"] == 0
    assert _report(app, month, "MABES", date_from="2033-03-31", date_to="2033-03-31")["calls"]["offered"] == 1
    assert _report(app, month, "51", week="2033-W11")["calls"]["offered"] == 1  # c13 only
    assert _report(app, month, "51", week="2033-W10")["calls"]["offered"] == 0
    national_w10 = _report(app, month, "MABES", week="2033-W10")
    assert national_w10["calls"]["offered"] == 4  # c5, c6, c12 and c13 (Sunday 23:30 WIB)
    assert (national_w10["from"], national_w10["to"]) == ("2033-03-07", "2033-03-13")
    assert _report(app, month, "94", month="2033-03")["timezone_label"] == "WIT"


def test_response_times_from_milestones(app: Any, month: dict[str, Any]) -> None:
    r = _report(app, month, "51", month="2033-03")["response"]
    assert (r["incidents"], r["median_s_to_dispatch"], r["median_s_to_scene"], r["p90_s_to_scene"]) == \
        (3, 90.0, 690.0, 900)
    assert (r["on_scene"], r["within_target"], r["within_target_share"]) == (2, 1, 0.5)
    assert r["open"] == 1 and r["open_by_age"] == {"lt_1h": 0, "1h_4h": 0, "4h_24h": 0, "gt_24h": 1}
    kids = {k["unit"]["code"]: k["response"] for k in _report(app, month, "51", month="2033-03")["children"]}
    assert (kids["51.71"]["median_s_to_scene"], kids["51.71"]["within_target"], kids["51.71"]["open"]) == (480.0, 1, 1)
    assert (kids["51.02"]["median_s_to_dispatch"], kids["51.02"]["within_target"]) == (120.0, 0)


def test_milestones_move_the_status_and_flag_a_far_arrival(app: Any, month: dict[str, Any]) -> None:
    storage = app.extensions["geo_service"].storage
    with storage.session() as s:
        i1 = incident_service.get_incident(s, month["incidents"]["i1"])
        i2 = incident_service.get_incident(s, month["incidents"]["i2"])
        assert (i1.status, i2.status) == ("selesai", "dalam_proses")
        line = {m["kind"]: m for m in ms.timeline(s, i2)}
    assert [k for k in line] == ["received", "dispatched", "on_scene"]
    assert line["on_scene"]["s_since_call"] == 900 and line["on_scene"]["far"] is True
    assert 990 < line["on_scene"]["distance_m"] < 1010


def test_a_retried_tap_counts_once(app: Any, month: dict[str, Any]) -> None:
    storage = app.extensions["geo_service"].storage
    iid = month["incidents"]["i1"]
    with storage.transaction() as s:
        row, created = ms.record_milestone(s, iid, {"kind": "on_scene", "key": "i1-on_scene-key"}, actor="x")
        assert not created
        row2, created2 = ms.record_milestone(s, iid, {"kind": "on_scene", "key": "another-key-123"}, actor="x")
        assert not created2 and row2.id == row.id
        assert len([m for m in store.list_milestones(s, iid) if m.kind == "on_scene"]) == 1


def test_reimport_updates_and_never_duplicates(app: Any, month: dict[str, Any]) -> None:
    storage = app.extensions["geo_service"].storage
    h = month["hierarchy"]
    first = HEADER + _row("r-1", "2033-07-04T09:00:00+08:00", None, "", "51.71;51", "abandoned") + \
        _row("r-2", "2033-07-05T09:00:00+08:00", 7, "51.71", "51.71", "emergency")
    again = HEADER + _row("r-1", "2033-07-04T09:00:00+08:00", 30, "51", "51.71;51", "information") + \
        _row("r-2", "2033-07-05T09:00:00+08:00", 7, "51.71", "51.71", "emergency")
    with storage.transaction() as s:
        one = svc.import_calls_csv(s, io.StringIO(first), h, actor="t")
    with storage.transaction() as s:
        two = svc.import_calls_csv(s, io.StringIO(again), h, actor="t")
    assert (one.created, one.updated, two.created, two.updated) == (2, 0, 0, 2)
    r = _report(app, month, "51", month="2033-07")
    assert (r["calls"]["offered"], r["calls"]["answered"], r["calls"]["by_outcome"]["information"]) == (2, 2, 1)
    kids = {k["unit"]["code"]: k["calls"] for k in r["children"]}
    assert (kids["51.71"]["offered"], kids["51.71"]["answered"]) == (2, 1)


def test_a_crash_mid_import_stores_nothing(app: Any, month: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    storage = app.extensions["geo_service"].storage
    text = HEADER + "".join(_row(f"x-{i}", "2033-08-01T09:00:00+08:00", 3, "51.02", "51.02", "prank")
                            for i in range(7))
    calls_done = {"n": 0}
    original = store.upsert_calls

    def crashing(session: Any, rows: Any) -> None:
        original(session, rows[:3])  # the first bulk statement reaches the database ...
        calls_done["n"] += 1
        raise RuntimeError("power cut")  # ... then the process dies

    monkeypatch.setattr(store, "upsert_calls", crashing)
    with pytest.raises(RuntimeError), storage.transaction() as s:
        svc.import_calls_csv(s, io.StringIO(text), month["hierarchy"], actor="t")
    assert calls_done["n"] == 1
    with storage.session() as s:
        assert store.existing_call_ids(s, [f"x-{i}" for i in range(7)]) == set()


def test_json_calls_and_period_errors(app: Any, month: dict[str, Any]) -> None:
    storage = app.extensions["geo_service"].storage
    body = [{"call_id": "j-1", "started_at": "2033-09-01T08:00:00+07:00", "answered_at": None,
             "ended_at": "2033-09-01T08:01:00+07:00", "routed_to": ["31.71", "31"], "outcome": "abandoned"},
            {"call_id": "j-2", "started_at": "2033-09-01T08:00:00+07:00", "ended_at": "2033-09-01T07:00:00+07:00",
             "routed_to": "31.71", "outcome": "silent"}]
    with storage.transaction() as s:
        result = svc.import_calls_json(s, body, month["hierarchy"], actor="t")
    assert (result.created, [e["pointer"] for e in result.errors]) == (1, ["/1/ended_at"])
    with pytest.raises(BadRequest):
        _report(app, month, "51", month="2033-13")
    with pytest.raises(BadRequest):
        _report(app, month, "51", week="2033-W10", month="2033-03")
    with pytest.raises(InvalidInput):
        with storage.transaction() as s:
            svc.import_calls_csv(s, io.StringIO("call_id,started_at\nx,y\n"), month["hierarchy"], actor="t")


def test_histogram_statistics_match_the_statistics_module() -> None:
    import statistics
    from collections import Counter

    for values in ([1], [1, 2], [5, 1, 9, 9, 3], [4, 4, 4, 10], list(range(37))):
        hist = Counter(values)
        assert svc.histogram_median(hist) == statistics.median(values)
        ordered = sorted(values)
        assert svc.histogram_p90(hist) == ordered[-(-9 * len(values) // 10) - 1]


def test_hierarchy_works_with_and_without_a_published_mabes_unit() -> None:
    from types import SimpleNamespace as U

    without = SimpleIndex({"51": U(name="Polda Bali", level="polda", parent_code=None),
                           "51.71": U(name="Polresta Denpasar", level="polres", parent_code="51")})
    with_root = SimpleIndex({"MABES": U(name="Mabes Polri", level="mabes", parent_code=None),
                             "51": U(name="Polda Bali", level="polda", parent_code="MABES"),
                             "51.71": U(name="Polresta Denpasar", level="polres", parent_code="51")})
    for idx in (without, with_root):
        h = svc.Hierarchy.from_index(idx)  # type: ignore[arg-type]
        assert h.ancestors("51.71") == ("51.71", "51", "MABES")
        assert h.children("MABES") == ["51"] and h.node("MABES").level == "mabes"
        assert h.zone("MABES").label == "WIB" and h.zone("51.71").label == "WITA"
        assert h.within("51.71", "51") and not h.within("51", "51.71") and h.within("51", "MABES")
        assert svc.effective_report_unit(h, None, None) == "MABES"
        assert svc.effective_report_unit(h, None, "51") == "51"


class SimpleIndex:
    """Just the ``units`` mapping the hierarchy reads."""

    def __init__(self, units: dict[str, Any]) -> None:
        self.units = units


def test_response_target_default_per_unit_and_distance_bands(tmp_path: Any) -> None:
    from dataclasses import replace

    from geo_service.config import ConfigError, load_settings

    base = load_settings(env={"GEO_SERVICE_DATA_DIR": str(tmp_path)})
    ancestors = {"51.71.01": ("51.71.01", "51.71", "51", "MABES"), "51.02.01": ("51.02.01", "51.02", "51", "MABES")}
    row_dps = (1, "51.71.01", "51", "51.71", "51.71.01", "belum_ditangani", None, None, None,
               {"stations": [{"distance_m": 12_000}]})
    row_tab = (2, "51.02.01", "51", "51.02", "51.02.01", "belum_ditangani", None, None, None,
               {"stations": [{"distance_m": 31_000}]})
    default = svc.make_target(base, ancestors.__getitem__)
    assert (default(row_dps), default(row_tab)) == (600, 600)
    tuned = svc.make_target(replace(base, response_targets="51.71=8", response_target_bands="5:10,20:20"),
                            ancestors.__getitem__)
    assert (tuned(row_dps), tuned(row_tab)) == (480, 1200)  # unit target wins; beyond the last band: its target
    with pytest.raises(ConfigError):
        load_settings(env={"GEO_SERVICE_DATA_DIR": str(tmp_path), "GEO_SERVICE_RESPONSE_TARGET_BANDS": "5km:10"})


def test_demo_month_covers_every_polda_and_is_removable(app: Any) -> None:
    """``demo seed --calls``: calls for every Polda of the structure in force (with the Polres lines it lists),
    overflow up to Mabes, some ringing Mabes first, some Polda under half answered; ``demo clear`` removes them.
    June 2035, away from the other tests' calls."""
    storage = app.extensions["geo_service"].storage
    when = datetime(2035, 7, 1, 0, 0, tzinfo=UTC)
    hierarchy = svc.hierarchy_for(app.extensions["geo_service"].holder.current(), now=when)
    poldas = sorted(r.code for r in svc.structure_in_force(when.date()) if r.level == "polda")
    assert len(poldas) >= 34 and set(poldas) <= set(hierarchy.children("MABES"))
    with storage.transaction() as s:
        seeded = svc.seed_demo_calls(s, hierarchy, days=29, seed=2035, now=when)
    assert seeded > 10_000
    with storage.session() as s:
        r = svc.calls_report(s, hierarchy, unit_code="MABES", date_from="2035-06-01", date_to="2035-07-01", now=when)
    kids = {k["unit"]["code"]: k["calls"] for k in r["children"]}
    assert all(kids[code]["offered"] > 0 for code in poldas), [c for c in poldas if not kids[c]["offered"]]
    assert kids["MABES"]["offered"] > 0  # calls that rang Mabes first
    assert r["below_half_answered"] and len(r["top_by_volume"]) == 5 and len(r["most_not_answered"]) == 5
    assert 0 < r["calls"]["overflow"] < r["calls"]["answered"] and r["calls"]["offered"] == seeded
    rates = sorted(kids[c]["answer_rate"] for c in poldas)
    assert rates[0] < 0.5 < rates[-1]
    with storage.session() as s:
        dki = svc.calls_report(s, hierarchy, unit_code="31", month="2035-06", now=when)
    assert all(k["calls"]["offered"] > 0 for k in dki["children"] if k["unit"]["level"] == "polres")
    with storage.transaction() as s:
        assert svc.clear_demo_calls(s) >= seeded
    with storage.session() as s:
        assert svc.calls_report(s, hierarchy, unit_code="MABES", date_from="2035-06-01", date_to="2035-07-01",
                                now=when)["calls"]["offered"] == 0
