"""Page language and page texts: Bahasa Indonesia by default, English by choice.

The language of a request comes from ``?lang=``, then the ``lang`` cookie (the toggle in the
header), then Accept-Language, else Indonesian; Flask-Babel uses it for every gettext call
and the Jinja ``_()`` of templates. Templates read the shared texts as ``t.<key>``: the keys
below map to message ids (English) of the catalogs in ``geo_service/translations``. Enum
values are worded with ``label(kind, code)``, times with the ``local_time`` and ``age``
filters (local time of the unit with WIB/WITA/WIT) and periods of days with ``local_dates(first,
last)``; ISO 8601 stays in the API and exports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from flask import Flask, g, request
from flask_babel import Babel

from geo_service.geo.timezones import LocalZone, zone_for_unit
from geo_service.storage.types import utcnow
from geo_service.translations import LANGUAGES, N_, TRANSLATIONS_DIR, format_decimal, gettext, label, labels
from geo_service.translations.times import age_since, format_age, format_local_dates, format_local_time

#: The other language of the header toggle, named in itself.
OTHER_LANGUAGE = {"id": ("en", "English"), "en": ("id", "Bahasa Indonesia")}

#: Template key -> message id (the English text; the catalogs hold every language).
TEXT: dict[str, str] = {
    "app": N_("110 Coordinate Service"), "console": N_("Console"), "incidents": N_("Incidents"),
    "recap": N_("Weekly recap"), "admin": N_("Admin"), "boundaries": N_("Boundaries"),
    "stations": N_("Stations"), "login": N_("Log in"), "logout": N_("Log out"), "username": N_("Username"),
    "password": N_("Password"), "login_failed": N_("Wrong username or password."),
    "input_label": N_("Location (coordinates, DMS, UTM, map link, AML SMS, village name ...)"),
    "hint_label": N_("Caller's unit (optional)"), "submit": N_("Locate (Enter)"), "result": N_("Result"),
    "in_unit": N_("The point is in the area of"), "responsible": N_("Responsible unit"),
    "at_sea": N_("The point is at sea; nearest unit"), "outside": N_("The point is outside every area; nearest unit"),
    "border": N_("The point is near a border; check the candidates"),
    "invalid": N_("The coordinate cannot be used"),
    "suspect": N_("The coordinate is doubtful: choose a candidate"), "corrected": N_("Coordinate corrected"),
    "valid": N_("Coordinate valid"), "reasons": N_("Reasons"), "copy_btn": N_("Copy"), "copied": N_("Copied"),
    "send_officer": N_("Send to officer"), "officer_link": N_("Link for the officer, valid until"),
    "nearest_stations": N_("Nearest stations"), "distance": N_("Distance"), "confidence": N_("Confidence"),
    "uncertainty": N_("Uncertainty"), "original": N_("Original point"), "corrected_point": N_("Corrected point"),
    "candidates": N_("Candidates"), "share": N_("share"), "open_nav": N_("Open in the navigation app"),
    "open_gmaps": N_("Open in Google Maps"), "coords": N_("Coordinates"), "sample": N_("SAMPLE — not real data"),
    "upload": N_("Upload"), "level": N_("Level"), "file": N_("File"), "publish": N_("Publish"),
    "republish": N_("Publish again (rollback)"), "report": N_("Check report"), "errors": N_("Errors"),
    "warnings": N_("Warnings"), "diff": N_("Changes"), "units": N_("Units"), "set": N_("Set"),
    "unit_type": N_("Unit type"),
    "code_field": N_("Code field"), "name_field": N_("Name field"), "parent_field": N_("Parent code field"),
    "crs": N_("Source CRS (when there is no .prj)"), "mapping": N_("Mapping table CSV (optional)"),
    "no_problems": N_("No problems."), "created": N_("Created"), "in_force_from": N_("In force from"), "by": N_("by"), "week": N_("Week"),
    "unit": N_("Unit"), "map": N_("Map"), "status": N_("Status"), "back": N_("Back"), "none": "—",
    "matches": N_("Match"), "published_stations": N_("Published stations"),
    "log_incident": N_("Log as incident"), "category": N_("Category"), "channel": N_("Channel"),
    "description": N_("Description"), "save": N_("Save"), "unit_code": N_("Unit code"), "note": N_("Note"),
    "history": N_("History"), "date_from": N_("From"), "date_to": N_("To"), "heat_map": N_("Heat map"),
    "time": N_("Time"), "print": N_("Print (PDF)"), "total": N_("Total"),
    "median_first_action": N_("Median time to first action (min)"),
    "median_done": N_("Median time to done (min)"), "units_below": N_("Units below"),
    "link_expired": N_("Link expired"), "link_invalid": N_("Invalid link"),
    "link_expired_detail": N_("This officer link has expired or was withdrawn; ask the dispatcher for a new one."),
    "link_invalid_detail": N_("This officer link is not valid (changed or damaged)."), "time_zone": N_("time zone"),
    "stations_file": N_("CSV or GeoJSON"), "boundaries_file": N_("GeoJSON, zipped Shapefile, GeoPackage, KML or KMZ"),
    "found_errors": N_("errors"), "found_warnings": N_("warnings"),
    "changes_added": N_("added"), "changes_removed": N_("removed"), "changes_changed": N_("changed"),
    "locreq_button": N_("Ask the caller for their location"),
    "locreq_phone": N_("Caller's number (optional)"),
    "locreq_lang": N_("Language of the SMS and the caller's page"),
    "locreq_sms": N_("SMS/WhatsApp text"),
    "locreq_link": N_("Link"),
    "locreq_code": N_("Code"),
    "locreq_expires": N_("Valid until"),
    "locreq_qr": N_("QR code of the location link"),
    "locreq_send_sms": N_("Send SMS"),
    "locreq_send_wa": N_("Send WhatsApp"),
    "locreq_waiting": N_("Waiting for the caller to open the link…"),
    "locreq_opened": N_("The caller opened the link…"),
    "locreq_received": N_("Location received"),
    "locreq_denied": N_("The caller refused location permission"),
    "locreq_expired": N_("Link expired"),
    "locreq_accuracy": N_("Accuracy"),
    "locreq_age": N_("Age of the fix"),
    "locreq_source": N_("Source"),
    "locreq_typed": N_("Place typed by the caller"),
    "locreq_failed": N_("Request failed"),
    "lr_title": N_("Send your location to the police"),
    "lr_why": N_("The 110 officer on the phone with you asks for your phone's location so that help reaches the right place; it is sent once, to the police only."),
    "lr_code": N_("Request code (must match the one the officer tells you):"),
    "lr_allow": N_("Press “Allow” when your phone asks for location permission."),
    "lr_searching": N_("Finding your location…"),
    "lr_best": N_("Current accuracy: ±{m} m"),
    "lr_sent": N_("Location sent"),
    "lr_sent_acc": N_("Accuracy: ±{m} m. Stay on the line with the officer."),
    "lr_sent_text": N_("Thank you, your description was sent. Stay on the line with the officer."),
    "lr_retry": N_("Try again"),
    "lr_pin": N_("Mark it on a map"),
    "lr_pin_help": N_("Drag the marker to where you are, then send."),
    "lr_pin_send": N_("Send this point"),
    "lr_text": N_("Type the village / street"),
    "lr_text_label": N_("Village, street or a sign near you"),
    "lr_text_send": N_("Send"),
    "lr_denied": N_("Location permission was refused."),
    "lr_next": N_("What you can do: stay on the line or call 110 back; read out a sign near you (street name, house number, shop sign, electricity pole number); or type the village/street below."),
    "lr_unavailable": N_("Your location could not be found. Mark it on a map or type the village/street."),
    "lr_error": N_("Sending failed; check your signal and try again."),
    "lr_invalid": N_("This link is not valid."),
    "lr_expired": N_("This link has expired."),
    "lr_used": N_("Your location has already been sent. Thank you."),
    "lr_closed_next": N_("If you still need help, call 110."),
    "approximate": N_("Approximate location from a place name"),
    "place": N_("Place"),
    "place_suggestions": N_("Place-name suggestions"),
    "calls_110": N_("Call Center 110"),
    "calls_report": N_("110 call report"),
    "special_area": N_("Special area (airport, port or sea sector)"),
    "approximate_area": N_("approximate area, not a surveyed boundary"),
    # issue 17: charts of the recap and incidents pages, the console's desk tools
    "charts": N_("At a glance"), "chart_by_unit": N_("Status by unit"),
    "chart_trend": N_("Incidents per week (last 8 weeks)"), "chart_first_action": N_("Time to first action"),
    "time_to_first_action": N_("Time from the call to the first action"),
    "bucket_lt15": N_("< 15 min"), "bucket_15_30": N_("15–30 min"), "bucket_30_60": N_("30–60 min"),
    "bucket_60_120": N_("1–2 h"), "bucket_120_240": N_("2–4 h"), "bucket_gt240": N_("> 4 h"),
    "bucket_open": N_("still open"),
    "radio_line": N_("Line for the radio"), "copy_radio": N_("Copy radio line"),
    "last_lookups": N_("Last lookups"), "no_lookups": N_("No lookups yet on this computer."),
    "shortcuts": N_("Keyboard shortcuts"), "shortcut_enter": N_("locate what is typed"),
    "shortcut_copy": N_("copy the radio line"), "shortcut_last": N_("go to the last lookups"),
    "shortcut_input": N_("back to the location input"), "shortcut_tab": N_("move between buttons"),
    "reason_PRESUMED_NEGATED_LATITUDE": N_("latitude sign"),
    "reason_PRESUMED_NEGATED_LONGITUDE": N_("longitude sign"),
    "reason_PRESUMED_SWAPPED_COORDINATE": N_("latitude and longitude swapped"),
    "reason_PROJECTED_AXES_SWAPPED": N_("easting and northing swapped"),
}


#: Error code -> what a page says about a refused change (the API keeps its English problem details).
PAGE_ERRORS: dict[str, str] = {
    "STALE_VERSION": N_("Someone else changed this incident in the meantime. The page shows the current "
                        "state: check it and make your change again."),
    "INVALID_TRANSITION": N_("This change is not possible from the incident's current status."),
    "UNKNOWN_UNIT": N_("This unit code is not in the published boundaries."),
    "OUT_OF_SCOPE": N_("This unit is outside your own unit."),
}


#: HTTP status -> (title, explanation) of an HTML error page.
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Not allowed"), N_("You may not open this, or the form has expired: reload the page and try again.")),
    404: (N_("Not found"), N_("This page does not exist.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    409: (N_("Conflict"), N_("The change conflicts with the current state: reload the page and try again.")),
    410: (N_("Gone"), N_("This is no longer available.")),
    413: (N_("Too large"), N_("The upload is larger than the limit.")),
    422: (N_("Invalid input"), N_("Some values are not valid.")),
    429: (N_("Too many requests"), N_("Too many attempts: wait a minute and try again.")),
    500: (N_("Server error"), N_("Something went wrong on the server; it has been logged.")),
    503: (N_("Service unavailable"), N_("The database is not reachable; nothing was written. Try again shortly.")),
}


def error_texts(status: int, title: str, detail: str) -> tuple[str, str]:
    """Title and explanation of an error page in the page's language.

    English pages keep the error's own detail (it is written in English and names specifics);
    other languages get the explanation of the status from the catalog.
    """
    lang = current_lang()
    known = ERROR_PAGES.get(status)
    if known is None:
        return title, detail
    return gettext(lang, known[0]), detail if lang == "en" else gettext(lang, known[1])


def page_error(code: str, detail: str) -> str:
    """A refused change worded for the page: the known codes in the page's language, else ``detail``."""
    msgid = PAGE_ERRORS.get(code)
    return gettext(current_lang(), msgid) if msgid else detail


class PageTexts(Mapping[str, str]):
    """``t`` of the templates: the texts of one language, looked up in its catalog on use."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]

    def __getitem__(self, key: str) -> str:
        if key == "lang_other":
            return OTHER_LANGUAGE[self.lang][0]
        if key == "language":
            return OTHER_LANGUAGE[self.lang][1]
        return gettext(self.lang, TEXT[key])

    def __iter__(self) -> Iterator[str]:
        return iter(TEXT)

    def __len__(self) -> int:
        return len(TEXT)


def page_lang() -> str:
    """'id' unless English was chosen (?lang=en, the lang cookie, or Accept-Language)."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(list(LANGUAGES), default="id") or "id"


def current_lang() -> str:
    """The language of this request (set by the page set-up, else chosen now)."""
    if "lang" not in g:
        g.lang = page_lang()
    return g.lang


def texts(lang: str) -> PageTexts:
    """The texts of one language."""
    return PageTexts(lang)


def viewer_zone() -> LocalZone | None:
    """The zone to show a time with no unit of its own: the viewer's unit, else the top unit served."""
    from geo_service.web.context import index

    principal = g.get("principal")
    codes = [getattr(principal, "unit_code", None)]
    try:
        codes += sorted(c for c, u in index().units.items() if u.parent_code is None)[:1]
    except Exception:  # noqa: BLE001 - no index yet (start-up error page): keep the time's own offset
        pass
    for code in codes:
        if code:
            try:
                return zone_for_unit(code)
            except KeyError:
                continue
    return None


def local_time(value: datetime | str | None, unit_code: str | None = None) -> str:
    """Jinja filter: a moment in the local time of ``unit_code`` (else the viewer's), with its zone."""
    zone = None
    if unit_code:
        try:
            zone = zone_for_unit(unit_code)
        except KeyError:
            zone = None
    return format_local_time(value, current_lang(), zone or viewer_zone())


def age(value: datetime | str | None) -> str:
    """Jinja filter: how long ago a moment was, in words ('3 jam lalu' / '3 hours ago')."""
    return age_since(value, utcnow(), current_lang())


def number(value: float | int | None, decimals: int = 1) -> str:
    """Jinja filter: a number with the decimal mark of the page's language (0,64 / 0.64)."""
    return format_decimal(value, current_lang(), decimals)


def _template_helpers() -> dict[str, Any]:
    lang = current_lang()
    return {"t": PageTexts(lang), "lang": lang, "label": lambda kind, code: label(lang, kind, code),
            "labels": lambda kind: labels(lang, kind), "age_words": lambda minutes: format_age(minutes, lang),
            "local_dates": lambda first, last: format_local_dates(first, last, lang)}


def init_app(app: Flask) -> None:
    """Flask-Babel on the shared catalogs, the ``t``/``label`` template helpers and the time filters."""
    Babel(app, locale_selector=current_lang, default_translation_directories=str(TRANSLATIONS_DIR))
    app.context_processor(_template_helpers)
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(age, "age")
    app.add_template_filter(number, "number")
