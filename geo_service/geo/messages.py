"""Human messages for coordinate flags, in the language of the screen (Bahasa Indonesia by default).

Each flag code is stable and upper-case; its message is a short template filled from the
flag's ``params`` (a missing parameter leaves a readable ``?``, never an exception). The
templates' words live in the gettext catalogs of :mod:`geo_service.translations` (message id
= the English text), loaded with the standard library, so this pure layer needs no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geo_service.translations import LANGUAGES, N_, gettext

__all__ = ["LANGUAGES", "MESSAGES", "flag_message"]

#: Flag code -> message template (the English text is the catalog's message id).
MESSAGES: dict[str, str] = {
    "COORDINATE_INVALID": N_("The coordinate could not be read."),
    "COORDINATE_OUT_OF_RANGE": N_("Coordinate out of range (latitude -90..90, longitude -180..180)."),
    "ZERO_COORDINATE": N_("(0, 0) is not a real location; it is usually a device default."),
    "PRESUMED_SWAPPED_COORDINATE": N_("Latitude and longitude appear swapped; swapped back."),
    "PRESUMED_NEGATED_LATITUDE": N_("The latitude sign (N/S) appears wrong; it was flipped."),
    "PRESUMED_NEGATED_LONGITUDE": N_("The longitude sign (E/W) appears wrong; it was flipped."),
    "COORDINATE_ROUNDED": N_("The coordinate is rounded; it is only precise to about {precision_m} m."),
    "COORDINATE_REPROJECTED": N_("The coordinate was converted from {crs} to WGS 84."),
    "OUTSIDE_SERVICE_AREA": N_("The location is outside the service area (about {distance_km} km from the nearest unit)."),
    "AT_SEA": N_("The location is at sea, about {distance_m} m from the nearest unit's land."),
    "DEFAULT_LOCATION_SUSPECTED": N_("The location equals a default point ({label}); it may not be the real location."),
    "AMBIGUOUS_COORDINATE": N_("{count} readings are equally plausible; please confirm one of the candidates."),
    "UTM_BAND_LETTER": N_("The UTM letter '{letter}' was read as a latitude band, not a hemisphere."),
    "UTM_HEMISPHERE_LETTER": N_("The UTM letter '{letter}' was read as a hemisphere, not a latitude band."),
    "ON_BORDER": N_("The point lies exactly on a border; assigned to the unit with the lowest code ({unit})."),
    "OVERLAP": N_("The point is inside two overlapping units; assigned to the lowest code ({unit})."),
    "CIRCLE_CROSSES_BORDER": N_("The uncertainty circle crosses a border; check the candidates."),
    "PROJECTED_AXES_SWAPPED": N_("Easting and northing appear swapped; swapped back."),
    "LOCATION_FIX_STALE": N_("The caller's phone position was old ({age_s} s when received); the caller may have moved."),
    "LOCATION_FIX_INACCURATE": N_("The caller's phone position is imprecise (about {accuracy_m} m); confirm with the caller."),
    "PLACE_NAME": N_("Location from a place name: {kind} {name} ({code}); the point stands for its area, radius {radius_m} m."),
    "PLACE_NAME_FUZZY": N_("The name '{typed}' was read as '{name}' (similarity {score} %); please confirm."),
    "AMBIGUOUS_PLACE": N_("{count} places have this name; choose a candidate or add the kecamatan/kabupaten."),
    "PLACE_SPLIT": N_("The area of {name} is split between {count} units; check the candidates and their shares."),
    "TEXT_IGNORED": N_("The coordinate was taken from inside the text; {chars} other characters were ignored: “{excerpt}”."),
    "MULTIPLE_COORDINATES": N_("The message holds {count} different coordinates; ask the caller which one is the incident."),
    "NMEA_CHECKSUM_BAD": N_("The checksum of the NMEA {sentence} sentence is wrong; the position may be corrupted, please confirm."),
    "SHORT_LINK_UNRESOLVED": N_("Short link ({host}) cannot be opened here. Ask the caller to open the link and send the full link from the address bar, or to send the coordinates (long-press the spot on the map and copy the numbers)."),
    "WHAT3WORDS_UNSUPPORTED": N_("what3words addresses cannot be read without the what3words service. Ask the caller for the coordinates or to share the location from Google Maps/WhatsApp."),
    "PHONE_NUMBER_NOT_COORDINATE": N_("This text holds a phone number, not a coordinate. Ask the caller to share the location (WhatsApp: Attach > Location) or to read out the latitude and longitude."),
    "AT_BEFORE_EARLIEST_SET": N_("The moment asked ({at}) is before the earliest boundary set; answered with the units in force from {effective_from}."),
    "NUMBER_NOT_COORDINATE": N_("The numbers in the text (a date, time, money amount or a single number) are not a coordinate. Ask the caller to share the location or to read out the latitude and longitude."),
}


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def flag_message(code: str, params: Mapping[str, Any] | None = None, lang: str = "id") -> str:
    """The human message of flag ``code`` in ``lang`` (``"id"`` or ``"en"``).

    Unknown languages fall back to Bahasa Indonesia; unknown codes return the code itself.

    Examples
    --------
    >>> flag_message("COORDINATE_REPROJECTED", {"crs": "EPSG:23880"}, "en")
    'The coordinate was converted from EPSG:23880 to WGS 84.'
    >>> flag_message("AT_SEA", {}, "id")
    'Lokasi di laut, sekitar ? m dari daratan wilayah terdekat.'
    """
    msgid = MESSAGES.get(code)
    if msgid is None:
        return code
    return gettext(lang, msgid).format_map(_Missing(params or {}))
