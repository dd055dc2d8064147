"""Gettext catalogs for every text people read, and the words for enum values (no Flask here).

The catalogs are ``<lang>/LC_MESSAGES/messages.po`` beside this file (compiled to ``.mo``),
one per language in :data:`LANGUAGES`; Bahasa Indonesia is the default. Message ids are the
English texts, so a translator edits ``.po`` files only (workflow in docs/TRANSLATIONS.md).
Pages load the same catalogs through Flask-Babel; ``geo/`` and ``maps/`` load them here with
the standard library's :mod:`gettext`, for an explicit language.

Enum values (a location status, a match kind, an incident status ...) stay codes in the
data and the API; :func:`label` turns one into the words of a screen. Their message ids carry
a context (``msgctxt``) naming the enum, so equal English words of two enums may differ in
Indonesian.
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from pathlib import Path

#: Languages with a catalog; the first is the default.
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: The folder holding ``<lang>/LC_MESSAGES/messages.{po,mo}``.
TRANSLATIONS_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"


def N_(msgid: str) -> str:
    """Mark a text for extraction (``pybabel extract -k N_``) without translating it yet."""
    return msgid


def NP_(context: str, msgid: str) -> tuple[str, str]:
    """Mark a text with its context for extraction (``-k NP_:1c,2``); returns ``(context, msgid)``."""
    return context, msgid


@lru_cache(maxsize=8)
def catalog(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (unknown languages get the default language's)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return _gettext.translation(DOMAIN, str(TRANSLATIONS_DIR), languages=[lang], fallback=True)


def gettext(lang: str, msgid: str) -> str:
    """``msgid`` in ``lang``."""
    return catalog(lang).gettext(msgid)


def pgettext(lang: str, context: str, msgid: str) -> str:
    """``msgid`` of ``context`` in ``lang``."""
    return catalog(lang).pgettext(context, msgid)


#: Enum kind -> code -> (context, English words). The context of an entry is its kind.
ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "location_status": {
        "valid": NP_("location_status", "valid"),
        "corrected": NP_("location_status", "corrected"),
        "approximate": NP_("location_status", "approximate (place name)"),
        "suspect": NP_("location_status", "doubtful"),
        "invalid": NP_("location_status", "unusable"),
    },
    "match": {
        "inside": NP_("match", "inside the area"),
        "border": NP_("match", "near a border"),
        "nearest": NP_("match", "at sea, nearest unit"),
        "at_sea": NP_("match", "at sea"),
        "none": NP_("match", "outside every area"),
    },
    "incident_status": {
        "belum_ditangani": NP_("incident_status", "Not yet handled"),
        "dalam_proses": NP_("incident_status", "In progress"),
        "selesai": NP_("incident_status", "Done"),
        "dibatalkan": NP_("incident_status", "Cancelled"),
    },
    "category": {
        "kecelakaan": NP_("category", "Accident"),
        "pencurian": NP_("category", "Theft"),
        "kebakaran": NP_("category", "Fire"),
        "kdrt": NP_("category", "Domestic violence"),
        "gangguan_ketertiban": NP_("category", "Public disorder"),
        "lainnya": NP_("category", "Other"),
    },
    "channel": {
        "call_110": NP_("channel", "110 call"),
        "aml": NP_("channel", "AML (phone location)"),
        "app": NP_("channel", "App"),
    },
    "event": {
        "created": NP_("event", "created"),
        "status": NP_("event", "status changed"),
        "reassign": NP_("event", "reassigned"),
        "note": NP_("event", "note"),
        "location": NP_("event", "location received from the caller's phone"),
    },
    "unit_type": {
        "mabes": NP_("unit_type", "Mabes Polri (national)"),
        "polda": NP_("unit_type", "Polda (province)"),
        "polres": NP_("unit_type", "Polres (regency)"),
        "polresta": NP_("unit_type", "Polresta (city)"),
        "polrestabes": NP_("unit_type", "Polrestabes (large city)"),
        "polres_metro": NP_("unit_type", "Polres Metro (metropolitan area)"),
        "polres_kawasan": NP_("unit_type", "Polres Kawasan (special area)"),
        "polsek": NP_("unit_type", "Polsek (district)"),
        "polsek_kawasan": NP_("unit_type", "Polsek Kawasan (special area)"),
        "unknown": NP_("unit_type", "unknown unit type"),
    },
    "level": {
        "polda": NP_("level", "Polda (province)"),
        "polres": NP_("level", "Polres (regency/city)"),
        "polsek": NP_("level", "Polsek (district)"),
    },
    "set_status": {
        "published": NP_("set_status", "published"),
        "draft": NP_("set_status", "draft"),
        "archived": NP_("set_status", "archived"),
        "scheduled": NP_("set_status", "scheduled"),
        "history": NP_("set_status", "history (answers past dates)"),
    },
    "severity": {
        "error": NP_("severity", "Error"),
        "warning": NP_("severity", "Warning"),
        "info": NP_("severity", "Info"),
        "repaired": NP_("severity", "Repaired"),
    },
    "change": {
        "added": NP_("change", "Added"),
        "removed": NP_("change", "Removed"),
        "geometry_changed": NP_("change", "Boundary changed"),
        "renamed": NP_("change", "Renamed"),
        "reparented": NP_("change", "Parent changed"),
        "changed": NP_("change", "Changed"),
        "unchanged": NP_("change", "Unchanged"),
    },
}


def label(lang: str, kind: str, code: str | None) -> str:
    """The words for enum value ``code`` of ``kind`` in ``lang``; an unknown code is shown as is.

    Examples
    --------
    >>> label("id", "location_status", "corrected"), label("en", "match", "inside")
    ('dikoreksi', 'inside the area')
    >>> label("id", "match", "something_new")
    'something_new'
    """
    if code is None:
        return ""
    entry = ENUM_LABELS.get(kind, {}).get(code)
    return pgettext(lang, *entry) if entry else str(code)


def format_decimal(value: float | int | None, lang: str, decimals: int = 1) -> str:
    """A number as people of ``lang`` write it: ``1.234,5`` (id) or ``1,234.5`` (en); ``—`` for None.

    Examples
    --------
    >>> format_decimal(1234.56, "id"), format_decimal(1234.56, "en"), format_decimal(0.6449, "id", 2)
    ('1.234,6', '1,234.6', '0,64')
    """
    if value is None:
        return "—"
    from babel.numbers import format_decimal as _format

    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return _format(value, format=pattern, locale=lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def labels(lang: str, kind: str) -> dict[str, str]:
    """Every code of ``kind`` with its words in ``lang`` (in the table's order)."""
    return {code: pgettext(lang, *entry) for code, entry in ENUM_LABELS[kind].items()}
