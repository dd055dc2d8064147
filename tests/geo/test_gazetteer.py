"""The gazetteer on the national file: exact, prefixed, spaced, misspelled and ambiguous names, hints."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo_service.geo.gazetteer import Gazetteer, Place, PlaceMatch, name_key, resolve
from geo_service.geo.validate import validate_place
from geo_service.services.places import read_places_file

BALER = "51.01.01.1006"  # Kelurahan Baler Bale Agung, Kec. Negara, Kab. Jembrana


@pytest.fixture(scope="module")
def places() -> list[Place]:
    return read_places_file()


@pytest.fixture(scope="module")
def gaz(places: list[Place]) -> Gazetteer:
    return Gazetteer(places)


def codes(matches: list[PlaceMatch]) -> list[str]:
    return [m.place.code for m in matches]


def test_shipped_file_has_every_level(places: list[Place]) -> None:
    kinds = Counter(p.kind for p in places)
    assert kinds["desa"] + kinds["kelurahan"] == 83_246
    assert (kinds["kecamatan"], kinds["kabupaten"] + kinds["kota"], kinds["provinsi"]) == (7_285, 514, 38)
    assert len({p.code for p in places}) == len(places)
    baler = next(p for p in places if p.code == BALER)
    assert baler.kind == "kelurahan" and baler.radius_m == 2327
    assert [c for _k, c, _n in baler.parents] == ["51.01.01", "51.01", "51"]
    lons = np.array([p.lon for p in places])
    lats = np.array([p.lat for p in places])
    assert lons.min() > 94 and lons.max() < 142 and lats.min() > -12 and lats.max() < 7


def test_points_of_area_places_lie_inside_their_polygons(places: list[Place]) -> None:
    from geo_service.geo.bundled import load_bali_units

    by_code = {u.code: u.geometry for u in load_bali_units()}
    # the Bali kecamatan points come from the coarse national file; the fine polygons must still hold them
    bali_kec = [p for p in places if p.kind == "kecamatan" and p.code.startswith("51.")]
    assert len(bali_kec) == 57
    inside = sum(bool(shapely.intersects_xy(by_code[p.code], p.lon, p.lat)) for p in bali_kec)
    assert inside >= 55


def test_name_key_ignores_case_spaces_and_punctuation() -> None:
    assert name_key("Baler  Bale-Agung") == name_key("balerbale agung") == "balerbaleagung"
    assert name_key("Désa") == "desa"


@pytest.mark.parametrize("text", [
    "Baler Bale Agung",
    "baler bale agung",
    "BalerBale Agung",
    "  Baler   Bale   Agung  ",
    "Kel. Baler Bale Agung",
    "Kelurahan Baler Bale Agung",
    "Desa Baler Bale Agung, Negara",
    "Ds.Baler Bale Agung",
    "Kec. Negara, Kel. Baler Bale Agung",
    "Kab. Jembrana Kec. Negara Desa Baler Bale Agung",
    "KelurahanBaler Bale Agung",
])
def test_exact_and_prefixed_names_find_the_village(gaz: Gazetteer, text: str) -> None:
    found = gaz.search(text, limit=5)
    assert found[0].place.code == BALER
    assert found[0].how == "exact"
    assert codes(resolve(found)) == [BALER]


@pytest.mark.parametrize("text", ["Baler Bale Agug", "Balerbale Agunk", "Desa Baller Bale Agung, Negara",
                                  "baler bali agung"])
def test_misspelled_names_are_found_fuzzily(gaz: Gazetteer, text: str) -> None:
    found = gaz.search(text, limit=5)
    assert found[0].place.code == BALER
    assert found[0].how == "fuzzy" and 80 <= found[0].score < 110
    assert codes(resolve(found)) == [BALER]


def test_kinds_from_prefixes(gaz: Gazetteer) -> None:
    assert gaz.search("Kec. Negara")[0].place.code == "51.01.01"
    assert gaz.search("Kab. Jembrana")[0].place.code == "51.01"
    assert gaz.search("Kabupaten Jembrana")[0].place.code == "51.01"
    assert gaz.search("Kota Denpasar")[0].place.code == "51.71"
    assert gaz.search("Denpasar")[0].place.code == "51.71"
    assert gaz.search("Provinsi Bali")[0].place.code == "51"
    assert gaz.search("Negara Kec.")[0].place.code == "51.01.01"  # the prefix after the name
    assert gaz.search("Jembrana, Kab.")[0].place.code == "51.01"
    # "Kota" also starts real village names: both readings are tried
    kota_baru = gaz.search("Kota Baru", limit=50)
    assert kota_baru[0].place.name.lower().replace(" ", "") == "kotabaru"


def test_ambiguous_name_lists_every_village(gaz: Gazetteer, places: list[Place]) -> None:
    expected = {p.code for p in places if name_key(p.name) == "sukamaju"}
    assert len(expected) >= 50
    found = gaz.search("Sukamaju", limit=50)
    assert len(resolve(found)) == 50
    assert {m.place.code for m in found} <= expected | {m.place.code for m in found if m.how != "exact"}
    assert all(m.how == "exact" for m in found[:50])


def test_parent_parts_make_an_ambiguous_name_unique(gaz: Gazetteer) -> None:
    found = gaz.search("Sukamaju, Kec. Cibungbulang")
    answer = resolve(found)
    assert len(answer) == 1 and answer[0].place.parents[0][2] == "Cibungbulang"
    assert resolve(gaz.search("Desa Sukadana, Karangasem"))[0].place.code == "51.07.08.2009"


def test_hint_ranks_the_hinted_unit_first(gaz: Gazetteer) -> None:
    plain = gaz.search("Sukadana", limit=30)
    assert len(resolve(plain)) > 1
    karangasem = box(115.3, -8.6, 115.75, -8.1)
    shapely.prepare(karangasem)
    hinted = gaz.search("Sukadana", limit=30, prefer=lambda x, y: shapely.intersects_xy(karangasem, x, y))
    assert hinted[0].place.code == "51.07.08.2009" and hinted[0].preferred
    assert not any(m.preferred for m in hinted[1:])
    assert [m.place.code for m in resolve(hinted)] == ["51.07.08.2009"]
    # the same places, only the order changed
    assert set(codes(hinted)) == set(codes(plain))


def test_prefix_suggestions_while_typing(gaz: Gazetteer) -> None:
    found = gaz.search("Baler Bale Ag", limit=10)
    assert found[0].place.code == BALER and found[0].how == "prefix"
    assert resolve(found) == []  # a prefix is a suggestion, never an answer
    assert gaz.search("ba") == [] or all(m.how != "fuzzy" for m in gaz.search("ba"))


@pytest.mark.parametrize("text", ["hello world", "xyzzy", "", "   ", ",,,", "Desa", "12345"])
def test_nonsense_names_no_place(gaz: Gazetteer, text: str) -> None:
    assert resolve(gaz.search(text)) == []


def test_search_is_deterministic_and_limited(gaz: Gazetteer) -> None:
    a = gaz.search("Mekarsari", limit=7)
    b = gaz.search("Mekarsari", limit=7)
    assert codes(a) == codes(b) and len(a) == 7
    assert codes(a) == sorted(codes(a))  # equal scores: the lower code first
    assert gaz.search("Mekarsari", limit=0) == []


def test_exact_lookup_agrees_with_search(gaz: Gazetteer) -> None:
    rng = np.random.default_rng(15)
    for i in rng.choice(len(gaz), size=300, replace=False):
        place = gaz._places[int(i)]  # noqa: SLF001 - sampling the structure itself
        exact = {p.code for p in gaz.exact(place.name)}
        assert place.code in exact
        found = gaz.search(place.name, limit=200)
        assert found[0].how == "exact" and found[0].score == 100.0
        assert place.code in {m.place.code for m in found if m.score == 100.0}


# ---------------------------------------------------------------- place results


def test_validate_place_exact_fuzzy_and_ambiguous(gaz: Gazetteer) -> None:
    r = validate_place("Baler Bale Agung", gaz.search("Baler Bale Agung", limit=50), None)
    assert r is not None and r.status == "approximate" and r.format == "place"
    assert r.point == (114.629438, -8.292406) and r.uncertainty_m == 2327.0 and r.confidence == 0.5
    assert r.codes == ["PLACE_NAME"] and r.to_dict()["place"]["code"] == BALER
    fuzzy = validate_place("Baler Bale Agug", gaz.search("Baler Bale Agug", limit=50), None)
    assert fuzzy is not None and fuzzy.codes == ["PLACE_NAME", "PLACE_NAME_FUZZY"]
    assert 0.4 < fuzzy.confidence < 0.5
    amb = validate_place("Sukamaju", gaz.search("Sukamaju", limit=50), None)
    assert amb is not None and amb.status == "suspect" and amb.point is None and amb.codes == ["AMBIGUOUS_PLACE"]
    assert len(amb.candidates) == 10 and amb.to_dict()["candidates"][0]["place"]["name"].lower().replace(" ", "") == "sukamaju"
    assert validate_place("xyzzy", gaz.search("xyzzy", limit=50), None) is None  # (there is a desa "Hello")
