"""Human messages for coordinate flags, Bahasa Indonesia first, English second.

Each flag code is stable and upper-case; its message is a short template filled from the
flag's ``params`` (a missing parameter leaves a readable ``?``, never an exception).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Languages we have messages for; the first is the default.
LANGUAGES = ("id", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "COORDINATE_INVALID": {
        "id": "Koordinat tidak dapat dibaca.",
        "en": "The coordinate could not be read.",
    },
    "COORDINATE_OUT_OF_RANGE": {
        "id": "Koordinat di luar rentang (lintang -90..90, bujur -180..180).",
        "en": "Coordinate out of range (latitude -90..90, longitude -180..180).",
    },
    "ZERO_COORDINATE": {
        "id": "Koordinat (0, 0) bukan lokasi sebenarnya; biasanya nilai bawaan perangkat.",
        "en": "(0, 0) is not a real location; it is usually a device default.",
    },
    "PRESUMED_SWAPPED_COORDINATE": {
        "id": "Lintang dan bujur tampaknya tertukar; sudah ditukar kembali.",
        "en": "Latitude and longitude appear swapped; swapped back.",
    },
    "PRESUMED_NEGATED_LATITUDE": {
        "id": "Tanda lintang (LU/LS) tampaknya terbalik; sudah dibalik.",
        "en": "The latitude sign (N/S) appears wrong; it was flipped.",
    },
    "PRESUMED_NEGATED_LONGITUDE": {
        "id": "Tanda bujur (BT/BB) tampaknya terbalik; sudah dibalik.",
        "en": "The longitude sign (E/W) appears wrong; it was flipped.",
    },
    "COORDINATE_ROUNDED": {
        "id": "Koordinat dibulatkan; ketelitian hanya sekitar {precision_m} m.",
        "en": "The coordinate is rounded; it is only precise to about {precision_m} m.",
    },
    "COORDINATE_REPROJECTED": {
        "id": "Koordinat dikonversi dari {crs} ke WGS 84.",
        "en": "The coordinate was converted from {crs} to WGS 84.",
    },
    "OUTSIDE_SERVICE_AREA": {
        "id": "Lokasi di luar wilayah layanan (sekitar {distance_km} km dari wilayah terdekat).",
        "en": "The location is outside the service area (about {distance_km} km from the nearest unit).",
    },
    "AT_SEA": {
        "id": "Lokasi di laut, sekitar {distance_m} m dari daratan wilayah terdekat.",
        "en": "The location is at sea, about {distance_m} m from the nearest unit's land.",
    },
    "DEFAULT_LOCATION_SUSPECTED": {
        "id": "Lokasi sama dengan titik bawaan ({label}); mungkin bukan lokasi sebenarnya.",
        "en": "The location equals a default point ({label}); it may not be the real location.",
    },
    "AMBIGUOUS_COORDINATE": {
        "id": "Ada {count} pembacaan yang sama-sama mungkin; mohon konfirmasi salah satu kandidat.",
        "en": "{count} readings are equally plausible; please confirm one of the candidates.",
    },
    "UTM_BAND_LETTER": {
        "id": "Huruf '{letter}' pada UTM dibaca sebagai pita lintang, bukan belahan bumi.",
        "en": "The UTM letter '{letter}' was read as a latitude band, not a hemisphere.",
    },
    "UTM_HEMISPHERE_LETTER": {
        "id": "Huruf '{letter}' pada UTM dibaca sebagai belahan bumi, bukan pita lintang.",
        "en": "The UTM letter '{letter}' was read as a hemisphere, not a latitude band.",
    },
    "ON_BORDER": {
        "id": "Titik tepat di batas wilayah; diberikan ke unit dengan kode terendah ({unit}).",
        "en": "The point lies exactly on a border; assigned to the unit with the lowest code ({unit}).",
    },
    "OVERLAP": {
        "id": "Titik berada di dua wilayah yang tumpang tindih; diberikan ke kode terendah ({unit}).",
        "en": "The point is inside two overlapping units; assigned to the lowest code ({unit}).",
    },
    "CIRCLE_CROSSES_BORDER": {
        "id": "Lingkaran ketidakpastian melewati batas wilayah; periksa kandidat.",
        "en": "The uncertainty circle crosses a border; check the candidates.",
    },
    "PROJECTED_AXES_SWAPPED": {
        "id": "Easting dan northing tampaknya tertukar; sudah ditukar kembali.",
        "en": "Easting and northing appear swapped; swapped back.",
    },
    "TEXT_IGNORED": {
        "id": "Koordinat diambil dari dalam teks; {chars} karakter lain diabaikan: \u201c{excerpt}\u201d.",
        "en": "The coordinate was taken from inside the text; {chars} other characters were ignored: "
              "\u201c{excerpt}\u201d.",
    },
    "MULTIPLE_COORDINATES": {
        "id": "Pesan berisi {count} koordinat yang berbeda; tanyakan penelepon mana lokasi kejadian.",
        "en": "The message holds {count} different coordinates; ask the caller which one is the incident.",
    },
    "NMEA_CHECKSUM_BAD": {
        "id": "Checksum kalimat NMEA {sentence} salah; posisi mungkin rusak, mohon konfirmasi.",
        "en": "The checksum of the NMEA {sentence} sentence is wrong; the position may be corrupted, please confirm.",
    },
    "SHORT_LINK_UNRESOLVED": {
        "id": "Tautan pendek ({host}) tidak dapat dibuka di sini. Minta penelepon membuka tautan itu lalu "
              "mengirim tautan lengkap dari bilah alamat, atau mengirim koordinat (tekan lama titik di peta, "
              "lalu salin angkanya).",
        "en": "Short link ({host}) cannot be opened here. Ask the caller to open the link and send the full "
              "link from the address bar, or to send the coordinates (long-press the spot on the map and "
              "copy the numbers).",
    },
    "WHAT3WORDS_UNSUPPORTED": {
        "id": "Alamat what3words tidak dapat dibaca tanpa layanan what3words. Minta penelepon mengirim "
              "koordinat atau berbagi lokasi dari Google Maps/WhatsApp.",
        "en": "what3words addresses cannot be read without the what3words service. Ask the caller for the "
              "coordinates or to share the location from Google Maps/WhatsApp.",
    },
    "PHONE_NUMBER_NOT_COORDINATE": {
        "id": "Teks ini berisi nomor telepon, bukan koordinat. Minta penelepon berbagi lokasi "
              "(WhatsApp: Lampirkan > Lokasi) atau membacakan lintang dan bujur.",
        "en": "This text holds a phone number, not a coordinate. Ask the caller to share the location "
              "(WhatsApp: Attach > Location) or to read out the latitude and longitude.",
    },
    "NUMBER_NOT_COORDINATE": {
        "id": "Angka dalam teks (tanggal, jam, jumlah uang atau satu angka saja) bukan koordinat. Minta "
              "penelepon berbagi lokasi atau membacakan lintang dan bujur.",
        "en": "The numbers in the text (a date, time, money amount or a single number) are not a "
              "coordinate. Ask the caller to share the location or to read out the latitude and longitude.",
    },
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
    templates = MESSAGES.get(code)
    if templates is None:
        return code
    template = templates.get(lang) or templates[LANGUAGES[0]]
    return template.format_map(_Missing(params or {}))
