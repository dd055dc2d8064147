"""services/boundaries.py on both backends: import as a draft, merge with the published levels, diff, publish.

Each test works in one transaction on the shared app and rolls it back, so nothing it does
(publishing included) is ever seen by another test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_service.errors import BoundaryFileError, Conflict, InvalidInput
from geo_service.geo.area import Unit
from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.services import boundaries
from geo_service.storage import repo
from geo_service.storage.models import AuditLog

DATA = BOUNDARIES_DIR  # the reference files ship in boundaries/ (see boundaries/SOURCES.md)
KECAMATAN = (DATA / "bali_kecamatan.geojson").read_bytes()


@pytest.fixture(scope="module")
def admin_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app whose bundled set is the administrative one the uploaded kecamatan files match
    (GEO_SERVICE_BUNDLED_SET=admin); the Polri structure default is tested in test_structure.py."""
    from tests.conftest import dispose_app, make_app

    application = make_app(backend, tmp_path_factory.mktemp(f"boundaries-service-{backend}"), bundled_set="admin")
    yield application
    dispose_app(application)


@pytest.fixture()
def session(admin_app: Any) -> Iterator[Session]:
    """A session on the module's app whose transaction is always rolled back."""
    s = admin_app.extensions["geo_service"].storage.session()
    s.begin()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


def _unit(code: str, level: str, parent: str | None = None, name: str | None = None) -> Unit:
    return Unit(code=code, name=name or code, level=level, parent_code=parent,  # type: ignore[arg-type]
                geometry=box(115.0, -8.8, 115.1, -8.7))


def test_merge_keeps_the_levels_the_upload_does_not_bring() -> None:
    published = [_unit("51", "polda"), _unit("51.03", "polres", "51"), _unit("51.03.01", "polsek", "51.03", "Old")]
    uploaded = [_unit("51.03.01", "polsek", "51.03", "New"), _unit("51.03.02", "polsek", "51.03")]
    merged = boundaries.merge_with_published(uploaded, published)
    assert [(u.code, u.name) for u in merged] == [("51", "51"), ("51.03", "51.03"), ("51.03.01", "New"),
                                                  ("51.03.02", "51.03.02")]
    # A declared level is replaced even when the upload yields nothing of it.
    assert [u.code for u in boundaries.merge_with_published([], published, ["polsek"])] == ["51", "51.03"]
    assert len(boundaries.merge_with_published([], published)) == 3


def test_import_creates_a_checked_draft_with_progress_and_audit(session: Session) -> None:
    published_id, published = boundaries.published_units(session)
    messages: list[str] = []
    bset = boundaries.import_boundaries(session, data=KECAMATAN, filename="kecamatan.geojson", level="polsek",
                                        actor="tester", progress=messages.append, request_id="req-1")
    assert len(messages) == 4 and messages[0] == "reading kecamatan.geojson" and "57 features" in messages[1]
    assert bset.status == "draft" and not bset.has_errors and bset.base_set_id == published_id
    assert bset.file_sha256 == hashlib.sha256(KECAMATAN).hexdigest() and bset.level == "polsek"
    assert bset.report["source"] == {"format": "geojson", "crs": "EPSG:4326", "layer": None, "features": 57}
    units = repo.load_units(session, bset.id)
    assert len(units) == 67
    # The polda and polres come from the published set unchanged.
    kept = {u.code: u for u in published if u.level != "polsek"}
    assert {u.code: (u.name, u.parent_code) for u in units if u.level != "polsek"} == {
        c: (u.name, u.parent_code) for c, u in kept.items()}
    assert repo.get_generation(session)[1] == published_id  # importing publishes nothing
    row = session.execute(select(AuditLog).where(AuditLog.action == "boundary_set.import",
                                                 AuditLog.target_id == str(bset.id))).scalar_one()
    assert (row.actor, row.request_id, row.detail["units"], row.detail["errors"]) == ("tester", "req-1", 67, 0)

    summary = boundaries.set_summary(bset, len(units), published_id)
    assert summary["status"] == "draft" and summary["units"] == 67 and summary["errors"] == 0

    diff = boundaries.diff_against_published(session, bset.id)
    assert diff["against"] == published_id and diff["summary"] == {"added": 0, "removed": 0, "changed": 57}
    assert all(c["fields"] == ["name"] for c in diff["changes"])
    assert boundaries.diff_against_published(session, bset.id, against=bset.id)["changes"] == []


def test_publish_and_roll_back_in_the_service(session: Session) -> None:
    generation, original, _stations = repo.get_generation(session)
    bset = boundaries.import_boundaries(session, data=KECAMATAN, filename="k.geojson", level="polsek", actor="t")
    assert boundaries.publish(session, bset.id, actor="t") == generation + 1
    assert repo.get_generation(session)[1] == bset.id
    old = repo.get_boundary_set(session, original)
    assert boundaries.set_summary(old, 67, bset.id)["status"] == "archived"
    assert boundaries.publish(session, original, actor="t") == generation + 2
    assert repo.get_generation(session)[1] == original
    assert repo.count_units(session, bset.id) == 67  # the rolled-back set is kept


def test_refused_crs_makes_an_unpublishable_draft(session: Session) -> None:
    # A WKT CSV carries no CRS; these numbers are UTM 50S metres, not degrees.
    data = (b'kode,nama,kode_kab,wkt\n51.03.01,Kuta,51.03,'
            b'"POLYGON((300000 9030000, 310000 9030000, 310000 9040000, 300000 9030000))"\n')
    bset = boundaries.import_boundaries(session, data=data, filename="utm.csv", level="polsek", actor="t")
    assert bset.has_errors
    assert [e["code"] for e in bset.report["errors"]] == ["MISSING_CRS"]
    assert {u.level for u in repo.load_units(session, bset.id)} == {"polda", "polres"}
    with pytest.raises(Conflict) as info:
        boundaries.publish(session, bset.id, actor="t")
    assert info.value.code == "SET_HAS_ERRORS"


def test_bad_inputs_raise_coded_errors(session: Session) -> None:
    with pytest.raises(InvalidInput) as info:
        boundaries.import_boundaries(session, data=KECAMATAN, filename="k.geojson", level="kodim", actor="t")
    assert info.value.code == "INVALID_LEVEL"
    with pytest.raises(BoundaryFileError) as err:
        boundaries.import_boundaries(session, data=b"%PDF-1.4", filename="k.pdf", level="polsek", actor="t")
    assert err.value.code == "UNSUPPORTED_FORMAT"


def test_import_stations_checks_and_keeps_one_row_per_code(session: Session) -> None:
    csv_text = ("code,name,unit_code,lat,lon,phone\n"
                "S1,Pos Kuta,51.03.01,-8.726433,115.177805,0361\n"
                "S1,Pos Kuta lagi,51.03.01,-8.72,115.17,\n"
                "S2,Pos di luar,51.03.01,-8.701521,115.227086,\n")
    sset = boundaries.import_stations(session, data=csv_text.encode(), filename="pos.csv", actor="t")
    assert sset.has_errors and sset.status == "draft"
    assert {e["code"] for e in sset.report["errors"]} == {"DUPLICATE_CODE"}
    assert "STATION_OUTSIDE_UNIT" in {w["code"] for w in sset.report["warnings"]}
    stored = repo.load_stations(session, sset.id)
    assert [(s["code"], s["name"]) for s in stored] == [("S1", "Pos Kuta"), ("S2", "Pos di luar")]
    summary = boundaries.station_set_summary(sset, len(stored), repo.get_generation(session)[2])
    assert (summary["status"], summary["stations"], summary["errors"]) == ("draft", 2, 1)
    with pytest.raises(Conflict):
        repo.publish_station_set(session, sset.id, actor="t")
