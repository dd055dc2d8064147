"""Chart data of the recap (issue 17): status by child unit, 8-week trend, time-to-first-action buckets.

Own data in ISO weeks 2033-W12..W20 of the shared app (other recap tests use 2031), on both backends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from geo_service.geo import timezones as tz
from geo_service.services import incidents as svc
from geo_service.services import recap as recap_service

START, END = tz.local_week_bounds(2033, 20, tz.WITA)
NOW = END + timedelta(days=1)


@pytest.fixture(scope="module")
def charts(app: Any) -> dict[str, Any]:
    storage = app.extensions["geo_service"].storage
    idx = app.extensions["geo_service"].holder.current()
    tabanan = idx.children("51.02")[0].code

    def add(code: str, reported: datetime, steps: list[tuple[int, str]]) -> None:
        lon, lat = idx.reference_point(code)
        body = {"location": {"lat": lat, "lon": lon}, "category": "lainnya", "reported_at": reported.isoformat(),
                "channel": "call_110", "description": "chart"}
        with storage.transaction() as s:
            inc = svc.create_incident(s, body, idx, actor="t", now=reported)
            for minutes, status in steps:
                inc = svc.update_incident(s, inc.id, {"status": status, "version": inc.version}, idx, actor="t",
                                          now=reported + timedelta(minutes=minutes))

    add("51.71.01", START + timedelta(hours=1), [(10, "dalam_proses"), (70, "selesai")])  # 10 min
    add(tabanan, START + timedelta(days=1), [(20, "dalam_proses")])  # 20 min
    add("51.71.02", START + timedelta(days=2), [])  # still open
    add(tabanan, START + timedelta(days=3), [(300, "dalam_proses")])  # 5 h
    add("51.71.03", START + timedelta(days=3), [(45, "dalam_proses")])  # exactly 45 min -> 30-60
    add("51.71.01", START - timedelta(days=14), [])  # 2033-W18, open
    add("51.71.01", START - timedelta(days=56), [])  # 2033-W12: outside the 8 weeks
    with storage.session() as s:
        recap = recap_service.weekly_recap(s, idx, unit_code="51", week="2033-W20", now=NOW, overdue_minutes=30)
        data = recap_service.recap_chart_data(s, idx, recap, NOW)
    return {"data": data, "idx": idx, "recap": recap}


def test_first_action_histogram(charts: dict[str, Any]) -> None:
    assert charts["data"]["first_action"] == {"lt15": 1, "15_30": 1, "30_60": 1, "60_120": 0, "120_240": 0,
                                              "gt240": 1, "open": 1}


def test_status_by_unit_matches_the_recap_children(charts: dict[str, Any]) -> None:
    by_unit = {row["code"]: row["counts"] for row in charts["data"]["by_unit"]}
    assert sorted(by_unit) == [u.code for u in charts["idx"].children("51")]
    assert by_unit["51.71"] == {"belum_ditangani": 1, "dalam_proses": 1, "selesai": 1, "dibatalkan": 0}
    assert by_unit["51.02"] == {"belum_ditangani": 0, "dalam_proses": 2, "selesai": 0, "dibatalkan": 0}
    for child in charts["recap"]["children"]:  # the same figures as the recap's table
        assert by_unit[child["code"]] == child["counts"]


def test_trend_is_eight_local_weeks_ending_with_the_recap_week(charts: dict[str, Any]) -> None:
    trend = charts["data"]["trend"]
    assert [row["week"] for row in trend] == [f"2033-W{w:02d}" for w in range(13, 21)]
    totals = {row["week"]: sum(row["counts"].values()) for row in trend}
    assert totals["2033-W20"] == 5 and totals["2033-W18"] == 1
    assert sum(totals.values()) == 6  # W12 is left out
    assert trend[-1]["counts"] == {"belum_ditangani": 1, "dalam_proses": 3, "selesai": 1, "dibatalkan": 0}


def test_trend_weeks_cross_the_year() -> None:
    weeks = recap_service.trend_weeks("51", datetime(2033, 1, 5, tzinfo=tz.WITA.tz), "2033-W02")
    # 2032 starts on a Thursday, so it has an ISO week 53
    assert [w for w, _s, _e in weeks] == ["2032-W48", "2032-W49", "2032-W50", "2032-W51", "2032-W52", "2032-W53",
                                          "2033-W01", "2033-W02"]
    for (_a, _s1, e1), (_b, s2, _e2) in zip(weeks, weeks[1:], strict=False):
        assert e1 == s2  # consecutive, no gap
