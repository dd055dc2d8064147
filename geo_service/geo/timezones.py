"""Local time of a police unit: province (Polda) code -> IANA zone and its Indonesian label.

Indonesia has three zones and no daylight saving time: WIB (UTC+7), WITA (UTC+8) and WIT
(UTC+9). A unit's zone is taken from the province part of its Kemendagri code (``"51"`` in
``"51.71.04"``), never from a point lookup, so that a whole Polda always reports in one zone.
The 38 province codes are those of ``indonesia_provinsi.geojson`` (11..96).

ISO weeks here run Monday 00:00 local time to the next Monday 00:00 local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class LocalZone:
    """An Indonesian time zone: IANA name, label (WIB/WITA/WIT) and fixed UTC offset in hours."""

    iana: str
    label: str
    utc_offset_h: int

    @property
    def tz(self) -> tzinfo:
        """A tzinfo for this zone (the IANA zone; a fixed offset when tzdata is missing)."""
        try:
            return ZoneInfo(self.iana)
        except ZoneInfoNotFoundError:  # pragma: no cover - tzdata is installed on our hosts
            return timezone(timedelta(hours=self.utc_offset_h), self.label)


WIB_JAKARTA = LocalZone("Asia/Jakarta", "WIB", 7)
WIB_PONTIANAK = LocalZone("Asia/Pontianak", "WIB", 7)
WITA = LocalZone("Asia/Makassar", "WITA", 8)
WIT = LocalZone("Asia/Jayapura", "WIT", 9)

#: Province (Kemendagri) code -> zone, for all 38 provinces.
PROVINCE_ZONES: dict[str, LocalZone] = {
    # Sumatra and the Riau Islands
    **{code: WIB_JAKARTA for code in ("11", "12", "13", "14", "15", "16", "17", "18", "19", "21")},
    # Java
    **{code: WIB_JAKARTA for code in ("31", "32", "33", "34", "35", "36")},
    # Bali, Nusa Tenggara Barat, Nusa Tenggara Timur
    **{code: WITA for code in ("51", "52", "53")},
    # Kalimantan Barat and Tengah keep WIB (tz database: Asia/Pontianak); Selatan, Timur, Utara WITA
    "61": WIB_PONTIANAK,
    "62": WIB_PONTIANAK,
    **{code: WITA for code in ("63", "64", "65")},
    # Sulawesi
    **{code: WITA for code in ("71", "72", "73", "74", "75", "76")},
    # Maluku, Maluku Utara and the Papua provinces
    **{code: WIT for code in ("81", "82", "91", "92", "93", "94", "95", "96")},
}

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{2})$")


def zone_for_unit(code: str) -> LocalZone:
    """The local zone of a unit from the province part of its code (raises KeyError when unknown).

    Parameters
    ----------
    code : str
        A unit code such as ``"51"``, ``"51.71"`` or ``"51.71.04"`` (dotted Kemendagri code).

    Returns
    -------
    LocalZone

    Examples
    --------
    >>> zone_for_unit("51.71.04").label, zone_for_unit("31").iana, zone_for_unit("94.01").label
    ('WITA', 'Asia/Jakarta', 'WIT')
    """
    province = code.split(".", 1)[0]
    try:
        return PROVINCE_ZONES[province]
    except KeyError:
        raise KeyError(f"no time zone known for unit {code!r} (province {province!r})") from None


def parse_iso_week(text: str) -> tuple[int, int]:
    """Read ``YYYY-Www`` (or ``YYYYWww``) and return ``(year, week)``; ValueError when invalid.

    Parameters
    ----------
    text : str
        An ISO 8601 week such as ``"2026-W48"``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> parse_iso_week("2026-W01"), parse_iso_week("2020W53")
    ((2026, 1), (2020, 53))
    """
    m = _WEEK_RE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W05")
    year, week = int(m.group(1)), int(m.group(2))
    weeks_in_year = date(year, 12, 28).isocalendar()[1]  # 28 December is always in the last week
    if not 1 <= week <= weeks_in_year:
        raise ValueError(f"{year} has weeks 1..{weeks_in_year}, not {week}")
    return year, week


def format_iso_week(year: int, week: int) -> str:
    """``YYYY-Www`` for a year and week.

    Examples
    --------
    >>> format_iso_week(2026, 5)
    '2026-W05'
    """
    return f"{year:04d}-W{week:02d}"


def iso_week_of(moment: datetime, zone: LocalZone) -> str:
    """The ISO week (``YYYY-Www``) that an aware datetime falls in, in the given zone's local time.

    Examples
    --------
    >>> from datetime import UTC
    >>> iso_week_of(datetime(2026, 11, 29, 15, 30, tzinfo=UTC), WITA)  # Sunday 23:30 WITA
    '2026-W48'
    >>> iso_week_of(datetime(2026, 11, 29, 16, 30, tzinfo=UTC), WITA)  # Monday 00:30 WITA
    '2026-W49'
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware datetime")
    iso = moment.astimezone(zone.tz).isocalendar()
    return format_iso_week(iso[0], iso[1])


def local_week_bounds(year: int, week: int, zone: LocalZone) -> tuple[datetime, datetime]:
    """Start (Monday 00:00 local) and end (next Monday 00:00 local) of an ISO week, as aware datetimes.

    Parameters
    ----------
    year, week : int
        The ISO year and week number.
    zone : LocalZone
        The unit's zone.

    Returns
    -------
    tuple of datetime
        ``(start, end)`` in the zone's local time; the week is ``start <= t < end``.

    Examples
    --------
    >>> start, end = local_week_bounds(2026, 48, WITA)
    >>> start.isoformat(), end.isoformat()
    ('2026-11-23T00:00:00+08:00', '2026-11-30T00:00:00+08:00')
    """
    monday = date.fromisocalendar(year, week, 1)
    tz = zone.tz
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start, end
