"""Times people read: local time in the unit's zone (WIB/WITA/WIT), local days and ages in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from geo_service.geo.timezones import WIT, WITA, zone_for_unit
from geo_service.translations.times import (
    age_since,
    format_age,
    format_local_date,
    format_local_dates,
    format_local_time,
)

MOMENT = datetime(2026, 11, 30, 12, 8, tzinfo=UTC)


@pytest.mark.parametrize(("unit", "lang", "expected"), [
    ("51.71.04", "id", "30 Nov 2026 20.08 WITA"),   # Denpasar
    ("51.71.04", "en", "30 Nov 2026 20:08 WITA"),
    ("31.71", "id", "30 Nov 2026 19.08 WIB"),       # Jakarta
    ("61.01", "en", "30 Nov 2026 19:08 WIB"),       # Kalimantan Barat (Asia/Pontianak)
    ("94.01", "id", "30 Nov 2026 21.08 WIT"),       # Papua
    ("81", "en", "30 Nov 2026 21:08 WIT"),          # Maluku
])
def test_local_time_in_the_units_zone(unit: str, lang: str, expected: str) -> None:
    assert format_local_time(MOMENT, lang, zone_for_unit(unit)) == expected


def test_local_time_crosses_midnight_and_months_in_indonesian() -> None:
    late = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert format_local_time(late, "id", WITA) == "1 Jan 2027 00.30 WITA"
    assert format_local_time(late.isoformat(), "en", WIT) == "1 Jan 2027 01:30 WIT"
    assert format_local_time("2026-08-17T03:00:00Z", "id", WITA) == "17 Agu 2026 11.00 WITA"
    assert format_local_time("2026-12-24T03:00:00+00:00", "id", WITA) == "24 Des 2026 11.00 WITA"
    assert format_local_time("2026-05-01T03:00:00+00:00", "id", WITA) == "1 Mei 2026 11.00 WITA"


def test_without_a_zone_the_time_keeps_its_own_offset() -> None:
    assert format_local_time("2026-11-30T20:08:00+08:00", "id") == "30 Nov 2026 20.08 WITA"
    assert format_local_time("2026-11-30T19:08:00+07:00", "en") == "30 Nov 2026 19:08 WIB"
    assert format_local_time("2026-11-30T21:08:00+09:00", "id") == "30 Nov 2026 21.08 WIT"
    assert format_local_time("2026-11-30T12:08:00", "en") == "30 Nov 2026 12:08 UTC"  # naive = UTC
    assert format_local_time(datetime(2026, 11, 30, 17, 38, tzinfo=timezone(timedelta(hours=5, minutes=30))),
                             "en") == "30 Nov 2026 17:38 UTC+05:30"


def test_no_moment_and_odd_text() -> None:
    assert format_local_time(None, "id") == "—"
    assert format_local_time("", "en") == "—"
    assert format_local_time("kemarin", "id") == "kemarin"
    assert format_local_time(MOMENT, "fr", WITA) == "30 Nov 2026 20.08 WITA"  # unknown language: Indonesian


@pytest.mark.parametrize(("day", "id_text", "en_text"), [
    ("2026-08-17", "17 Agu 2026", "17 Aug 2026"),
    (date(2026, 5, 1), "1 Mei 2026", "1 May 2026"),
    ("2026-12-24", "24 Des 2026", "24 Dec 2026"),
    (None, "—", "—"),
    ("minggu lalu", "minggu lalu", "minggu lalu"),  # not an ISO date: shown as it is
])
def test_local_dates_in_both_languages(day: date | str | None, id_text: str, en_text: str) -> None:
    assert format_local_date(day, "id") == id_text
    assert format_local_date(day, "en") == en_text


def test_a_period_of_days() -> None:
    assert format_local_dates("2026-11-30", "2026-12-06", "id") == "30 Nov 2026 – 6 Des 2026"
    assert format_local_dates(date(2026, 12, 28), "2027-01-03", "en") == "28 Dec 2026 – 3 Jan 2027"
    assert format_local_dates("2026-08-17", date(2026, 8, 17), "en") == "17 Aug 2026"  # one day, written once


@pytest.mark.parametrize(("age", "id_words", "en_words"), [
    (timedelta(seconds=30), "baru saja", "just now"),
    (timedelta(minutes=1), "1 menit lalu", "1 minute ago"),
    (timedelta(minutes=45), "45 menit lalu", "45 minutes ago"),
    (timedelta(hours=3), "3 jam lalu", "3 hours ago"),
    (timedelta(hours=1), "1 jam lalu", "1 hour ago"),
    (timedelta(days=2), "2 hari lalu", "2 days ago"),
    (180, "3 jam lalu", "3 hours ago"),                 # minutes, as the recap carries them
])
def test_ages_in_words(age: timedelta | int, id_words: str, en_words: str) -> None:
    assert format_age(age, "id") == id_words
    assert format_age(age, "en") == en_words


def test_age_since_a_moment() -> None:
    now = MOMENT + timedelta(hours=3, minutes=5)
    assert age_since(MOMENT.isoformat(), now, "id") == "3 jam lalu"
    assert age_since("2026-11-30T20:08:00+08:00", now, "en") == "3 hours ago"
    assert age_since(MOMENT + timedelta(minutes=5), MOMENT, "en") == "just now"  # a clock a little ahead
    assert age_since(None, now, "id") == ""
