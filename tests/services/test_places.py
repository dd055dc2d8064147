"""Places in locate answers: exact shares of a bundled village polygon (a village split between Polsek)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo_service.geo.area import Unit
from geo_service.geo.gazetteer import Place
from geo_service.geo.index import JurisdictionIndex
from geo_service.services.places import PlaceService

BALER = "51.01.01.1006"
BALER_PLACE = Place("kelurahan", BALER, "Baler Bale Agung", (("kecamatan", "51.01.01", "Negara"),),
                    114.629438, -8.292406, 2327.0)


def _split_index(village: Any, cut_lon: float) -> JurisdictionIndex:
    """Two Polsek whose border runs through the village at ``cut_lon``."""
    minx, miny, maxx, maxy = village.bounds
    outer = box(minx - 0.05, miny - 0.05, maxx + 0.05, maxy + 0.05)
    west = box(minx - 0.05, miny - 0.05, cut_lon, maxy + 0.05)
    east = box(cut_lon, miny - 0.05, maxx + 0.05, maxy + 0.05)
    units = [Unit("T", "Polda Test", "polda", None, outer), Unit("T.01", "Polres Test", "polres", "T", outer),
             Unit("T.01.01", "Polsek Barat", "polsek", "T.01", west),
             Unit("T.01.02", "Polsek Timur", "polsek", "T.01", east)]
    return JurisdictionIndex.build(units, set_id=1)


def test_a_village_split_between_two_polsek_says_so() -> None:
    svc = PlaceService(storage=None)  # type: ignore[arg-type] - only the bundled polygons are used
    place = BALER_PLACE
    village = svc.polygon(BALER)
    assert village is not None and village.area > 0
    # cut so that about a third of the village area lies west of the border
    xs = np.linspace(village.bounds[0], village.bounds[2], 200)
    west_share = [shapely.area(shapely.intersection(village, box(village.bounds[0] - 1, -90, x, 90))) / village.area
                  for x in xs]
    cut = float(xs[int(np.searchsorted(west_share, 1 / 3))])
    idx = _split_index(village, cut)
    answer: dict[str, Any] = {"match": "inside", "flags": [], "candidates": []}
    svc.refine_answer(answer, place, idx, lang="en")
    assert answer["shares_from"] == "polygon"
    shares = {c["polsek"]["code"]: c["share"] for c in answer["candidates"]}
    assert shares.keys() == {"T.01.01", "T.01.02"}
    assert shares["T.01.01"] == pytest.approx(1 / 3, abs=0.02) and sum(shares.values()) == pytest.approx(1.0, abs=1e-6)
    assert answer["candidates"][0]["polsek"]["code"] == "T.01.02"  # the larger share first
    assert answer["match"] == "border"
    split = [f for f in answer["flags"] if f["code"] == "PLACE_SPLIT"]
    assert split and "split between 2 units" in split[0]["message"]


def test_a_village_inside_one_polsek_keeps_one_candidate() -> None:
    svc = PlaceService(storage=None)  # type: ignore[arg-type]
    village = svc.polygon(BALER)
    assert village is not None
    idx = _split_index(village, village.bounds[2] + 0.01)
    answer: dict[str, Any] = {"match": "border", "flags": [{"code": "CIRCLE_CROSSES_BORDER", "message": ""}],
                              "candidates": []}
    svc.refine_answer(answer, BALER_PLACE, idx)
    assert [c["polsek"]["code"] for c in answer["candidates"]] == ["T.01.01"]
    assert answer["match"] == "inside" and answer["flags"] == []


def test_replicas_starting_together_load_the_gazetteer_once(tmp_path: Any) -> None:
    """Two first starts at once on one PostGIS database: one loads, the other waits and skips."""
    import threading

    from geo_service.config import load_settings
    from geo_service.services.places import ensure_places
    from geo_service.storage import db
    from geo_service.storage import places as places_repo
    from tests.conftest import create_pg_database, drop_pg_database

    url = create_pg_database()
    try:
        settings = load_settings(env={}, overrides={"database_url": url, "data_dir": str(tmp_path),
                                                    "secret_key": "test-secret-key-0123456789"})
        storage = db.Storage(settings.database_url, settings.backend)
        db.upgrade(storage.engine)
        results: list[Any] = []

        def start() -> None:
            try:
                results.append(ensure_places(storage, settings))
            except Exception as exc:  # noqa: BLE001 - the test reports it
                results.append(exc)

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert sorted(results, key=str) == [False, True], results
        with storage.session() as session:
            assert places_repo.count_places(session) == 91_083
        storage.dispose()
    finally:
        drop_pg_database(url)
