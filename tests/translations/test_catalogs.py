"""The gettext catalogs: complete, translated, placeholders kept, and every .mo compiled from its .po."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from geo_service.geo.messages import MESSAGES, flag_message
from geo_service.translations import ENUM_LABELS, LANGUAGES, TRANSLATIONS_DIR, label
from geo_service.web.i18n import TEXT, PageTexts

ROOT = Path(__file__).resolve().parents[2]
#: The keywords of scripts/translations.sh (``-k N_ -k NP_:1c,2``) on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "NP_": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _po(lang: str) -> dict[tuple[str | None, str], str]:
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    for message in catalog:
        assert not message.fuzzy or not message.id, f"{lang}: fuzzy entry {message.id!r}"
    return {(m.context, m.id): m.string for m in catalog if m.id}


def _extracted() -> set[tuple[str | None, str]]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mo_is_compiled_from_the_current_po(lang: str) -> None:
    """Fails when a .po was edited and not compiled (run scripts/translations.sh compile)."""
    po = _po(lang)
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    compiled = {k: v for k, v in mo._catalog.items() if k != ""}  # type: ignore[attr-defined]
    expected = {(f"{ctx}\x04{msgid}" if ctx else msgid): text for (ctx, msgid), text in po.items() if text}
    assert compiled == expected


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_of_the_code_is_in_the_catalog_and_translated(lang: str) -> None:
    """A text marked in the code or a template but missing from a .po (or left empty) fails here."""
    po = _po(lang)
    extracted = _extracted()
    assert len(extracted) > 150
    missing = sorted(k for k in extracted if k not in po)
    assert not missing, f"run scripts/translations.sh update and translate: {missing[:10]}"
    untranslated = sorted(k for k, text in po.items() if not text)
    assert not untranslated, untranslated[:10]
    stale = sorted(k for k in po if k not in extracted)
    assert not stale, f"no longer in the code: {stale[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_survive_translation(lang: str) -> None:
    for (_ctx, msgid), text in _po(lang).items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (msgid, text)


def test_indonesian_differs_from_english_where_it_should() -> None:
    """Every flag message and page text is really translated (equal words are few and listed)."""
    same = {"Admin", "Status", "Total", "Info", "valid", "Unit", "Set", "KDRT", "Call Center 110"}  # Polri's own name
    po = _po("id")
    for (ctx, msgid), text in po.items():
        if msgid not in same:
            assert text != msgid, (ctx, msgid)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_flag_has_its_message_and_params_in_both_languages(code: str) -> None:
    params = {"precision_m": 110, "crs": "EPSG:23880", "distance_km": 12.5, "distance_m": 850, "label": "Monas",
              "count": 2, "letter": "S", "unit": "51.71.01", "age_s": 300, "accuracy_m": 800,
              "kind": "desa", "name": "Baler Bale Agung", "code": "51.01.01.2001", "radius_m": 1200,
              "typed": "Balerbale", "score": 91, "chars": 12, "excerpt": "dekat pasar", "host": "goo.gl",
              "sentence": "GGA", "at": "2015-06-01", "effective_from": "2016-05-03"}
    texts = {lang: flag_message(code, params, lang) for lang in LANGUAGES}
    assert texts["id"] != texts["en"]
    for lang, text in texts.items():
        assert "?" not in text and "{" not in text, (lang, text)
    for name in PLACEHOLDER.findall(MESSAGES[code]):
        assert str(params[name]) in texts["id"] and str(params[name]) in texts["en"]


def test_unknown_language_falls_back_to_indonesian_and_unknown_code_to_itself() -> None:
    assert flag_message("ZERO_COORDINATE", {}, "fr") == flag_message("ZERO_COORDINATE", {}, "id")
    assert flag_message("NEW_CODE", {}, "en") == "NEW_CODE"
    assert PageTexts("fr")["console"] == "Konsol"


def test_page_texts_and_enum_labels_in_each_language() -> None:
    assert PageTexts("id")["console"] == "Konsol" and PageTexts("en")["console"] == "Console"
    assert PageTexts("id")["language"] == "English" and PageTexts("en")["lang_other"] == "id"
    assert set(PageTexts("en")) == set(TEXT)
    for kind, codes in ENUM_LABELS.items():
        for code in codes:
            words = {lang: label(lang, kind, code) for lang in LANGUAGES}
            assert all(words.values()), (kind, code)
    assert label("id", "location_status", "corrected") == "dikoreksi"
    assert label("id", "incident_status", "belum_ditangani") == "Belum Ditangani"
    assert label("en", "match", "border") == "near a border"
