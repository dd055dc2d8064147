"""Times people read: local time with its zone label, local days, and the age of an open incident.

``30 Nov 2026 20.08 WITA`` / ``30 Nov 2026 20:08 WITA``, ``17 Agu 2026`` / ``17 Aug 2026`` and
``3 jam lalu`` / ``3 hours ago``, formatted with Babel's CLDR data. ISO 8601 stays in exports and the API; these are for screens.
A time is shown in the zone of the unit it belongs to (:mod:`geo_service.geo.timezones`); without
a unit, in the UTC offset it carries, named WIB/WITA/WIT when it is one of Indonesia's three.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date, format_datetime, format_timedelta

from geo_service.geo.timezones import LocalZone
from geo_service.translations import DEFAULT_LANGUAGE, LANGUAGES, N_, gettext

#: CLDR pattern of a day, in both languages day first: 17 Agu 2026 / 17 Aug 2026.
DATE_PATTERN = "d MMM y"
#: CLDR patterns: Indonesian writes the time with a dot (20.08), English with a colon.
TIME_PATTERNS = {"id": DATE_PATTERN + " HH.mm", "en": DATE_PATTERN + " HH:mm"}
#: Indonesia's zone labels by UTC offset in hours (no daylight saving time anywhere).
OFFSET_LABELS = {7: "WIB", 8: "WITA", 9: "WIT"}


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def parse_moment(value: datetime | str | None) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 string (naive means UTC); None stays None."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _offset_label(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest == 0 and hours in OFFSET_LABELS:
        return OFFSET_LABELS[hours]
    if offset == timedelta(0):
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_local_time(value: datetime | str | None, lang: str, zone: LocalZone | None = None) -> str:
    """A moment as people read it: ``30 Nov 2026 20.08 WITA`` (id) or ``30 Nov 2026 20:08 WITA`` (en).

    Parameters
    ----------
    value : datetime or str or None
        An aware datetime or an ISO 8601 string (naive means UTC).
    lang : str
        ``"id"`` or ``"en"``.
    zone : LocalZone, optional
        The unit's zone; without it the moment keeps its own UTC offset.

    Returns
    -------
    str
        ``"—"`` when there is no moment; a string that is not ISO 8601 is shown as it is.

    Examples
    --------
    >>> from geo_service.geo.timezones import WITA, WIT
    >>> format_local_time("2026-11-30T12:08:00+00:00", "id", WITA)
    '30 Nov 2026 20.08 WITA'
    >>> format_local_time("2026-12-01T00:30:00+00:00", "en", WIT)
    '1 Dec 2026 09:30 WIT'
    >>> format_local_time("2026-08-17T10:00:00+07:00", "id")
    '17 Agu 2026 10.00 WIB'
    """
    try:
        moment = parse_moment(value)
    except ValueError:
        return str(value)
    if moment is None:
        return "—"
    lang = _lang(lang)
    local = moment.astimezone(zone.tz) if zone is not None else moment
    text = format_datetime(local, TIME_PATTERNS[lang], tzinfo=local.tzinfo, locale=lang)
    return f"{text} {zone.label if zone is not None else _offset_label(local)}"


def format_local_date(value: date | str | None, lang: str) -> str:
    """A calendar day as people read it: ``17 Agu 2026`` (id) or ``17 Aug 2026`` (en).

    The day is taken as it is (a report's period is already in the unit's local days).

    Parameters
    ----------
    value : date or str or None
        A date or an ISO 8601 date string (``2026-08-17``).
    lang : str
        ``"id"`` or ``"en"``.

    Returns
    -------
    str
        ``"—"`` when there is no day; a string that is not an ISO 8601 date is shown as it is.

    Examples
    --------
    >>> format_local_date("2026-08-17", "id"), format_local_date(date(2026, 8, 17), "en")
    ('17 Agu 2026', '17 Aug 2026')
    """
    if value is None or value == "":
        return "—"
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    return format_date(day, DATE_PATTERN, locale=_lang(lang))


def format_local_dates(first: date | str | None, last: date | str | None, lang: str) -> str:
    """A period of days: ``23 Nov 2026 – 29 Nov 2026``, one day when both ends are the same.

    Examples
    --------
    >>> format_local_dates("2026-11-23", "2026-11-29", "id")
    '23 Nov 2026 – 29 Nov 2026'
    >>> format_local_dates("2026-08-17", "2026-08-17", "id")
    '17 Agu 2026'
    """
    start, end = format_local_date(first, lang), format_local_date(last, lang)
    return start if start == end else f"{start} – {end}"


def format_age(age: timedelta | float | int, lang: str) -> str:
    """How long ago, in words: ``3 jam lalu`` / ``3 hours ago`` (a number is minutes).

    Examples
    --------
    >>> format_age(timedelta(hours=3), "id"), format_age(180, "en")
    ('3 jam lalu', '3 hours ago')
    >>> format_age(timedelta(seconds=20), "id"), format_age(timedelta(days=2, hours=1), "en")
    ('baru saja', '2 days ago')
    """
    delta = age if isinstance(age, timedelta) else timedelta(minutes=float(age))
    lang = _lang(lang)
    if delta < timedelta(minutes=1):
        return gettext(lang, N_("just now"))
    words = format_timedelta(delta, threshold=1.0, locale=lang)
    return gettext(lang, N_("{age} ago")).format(age=words)


def age_since(value: datetime | str | None, now: datetime, lang: str) -> str:
    """The age of a moment at ``now`` in words (empty when there is no moment)."""
    moment = parse_moment(value)
    if moment is None:
        return ""
    return format_age(max(now - moment, timedelta(0)), lang)
