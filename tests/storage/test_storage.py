"""Storage on both backends: migrations, geometry round trip, bundled set, PostGIS specifics."""

from __future__ import annotations

from typing import Any

import shapely
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from geo_service.storage import db, repo
from geo_service.storage.models import Base


def storage_of(app: Any) -> Any:
    return app.extensions["geo_service"].storage


def test_migrated_to_head_with_all_tables(app: Any) -> None:
    storage = storage_of(app)
    assert db.current_revision(storage.engine) == db.head_revision()
    tables = set(inspect(storage.engine).get_table_names())
    for name in ("boundary_sets", "jurisdiction_units", "stations", "station_sets", "api_tokens", "audit_log",
                 "app_state", "users", "incidents", "incident_events", "officer_links"):
        assert name in tables


def test_models_match_migrations(app: Any) -> None:
    storage = storage_of(app)
    with storage.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, Base.metadata)
    # PostGIS adds its own tables (spatial_ref_sys); ignore tables that are not ours.
    ours = {t for t in Base.metadata.tables}
    relevant = [d for d in diffs if not (d[0] == "remove_table" and d[1].name not in ours)]
    relevant = [d for d in relevant if not (d[0] in ("remove_index",) and d[1].name.startswith("ix_") and d[1].name.endswith("_geom"))]
    assert relevant == []


def test_bundled_set_published_with_71_units(app: Any) -> None:
    # The Polri structure (boundaries/police_structure.csv): 9 regency Polres + Polres Kawasan Bandara,
    # 57 kecamatan Polsek + 3 special-area Polsek; Kuta and Kuta Selatan under Polresta Denpasar.
    with storage_of(app).session() as session:
        generation, set_id, _stations = repo.get_generation(session)
        assert set_id is not None and generation >= 1
        units = repo.load_units(session, set_id)
    levels = [u.level for u in units]
    assert (levels.count("polda"), levels.count("polres"), levels.count("polsek")) == (1, 10, 60)
    by_code = {u.code: u for u in units}
    assert by_code["51"].name == "Polda Bali"
    assert by_code["51.01"].name == "Polres Jembrana"
    assert by_code["51.71"].name == "Polresta Denpasar"
    assert by_code["51.03.01"].parent_code == "51.71"
    assert by_code["51.01.01"].name == "Polsek Negara" and by_code["51.01.01"].parent_code == "51.01"
    assert by_code["51.01.01"].geometry.geom_type == "MultiPolygon" and by_code["51.01.01"].geometry.is_valid


def test_geometry_round_trip_is_exact(app: Any) -> None:
    from geo_service.services.structure import load_bali_structure_units

    source = {u.code: u.geometry for u in load_bali_structure_units()[0]}
    with storage_of(app).session() as session:
        _g, set_id, _s = repo.get_generation(session)
        stored = {u.code: u.geometry for u in repo.load_units(session, set_id)}
    for code in ("51.05.01", "51.08.01", "51.71.01"):
        assert shapely.equals_exact(shapely.normalize(stored[code]),
                                    shapely.normalize(repo.as_multipolygon(source[code])), tolerance=0)


def test_postgis_columns_are_real_geometries_with_gist(app: Any, backend: str) -> None:
    if backend != "postgis":
        return
    with storage_of(app).engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema='public' ORDER BY 1"
        )).all()
        assert ("jurisdiction_units", "MULTIPOLYGON", 4326) in rows
        assert ("stations", "POINT", 4326) in rows
        assert ("incidents", "POINT", 4326) in rows
        idx = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename='jurisdiction_units' AND indexname='ix_units_geom'"
        )).scalar_one()
        assert "USING gist" in idx
        # ST_Covers answers on the stored data (Negara polsek covers a point in Negara).
        code = conn.execute(text(
            "SELECT u.code FROM jurisdiction_units u JOIN app_state s ON s.boundary_set_id = u.set_id "
            "WHERE u.level='polsek' AND ST_Covers(u.geom, ST_SetSRID(ST_MakePoint(114.62, -8.358), 4326))"
        )).scalar_one()
        assert code == "51.01.01"


def test_publish_is_atomic_and_audited(fresh_app: Any) -> None:
    storage = storage_of(fresh_app)
    from geo_service.geo.bundled import load_bali_units

    with storage.transaction() as session:
        gen0, set0, _ = repo.get_generation(session)
        new = repo.create_boundary_set(session, name="copy", units=load_bali_units()[:10], source="upload",
                                       created_by="test")
        new_id = new.id
    with storage.session() as session:
        assert repo.get_generation(session)[1] == set0  # a draft changes nothing
    with storage.transaction() as session:
        gen1 = repo.publish_boundary_set(session, new_id, actor="tester")
    with storage.session() as session:
        gen, set_id, _ = repo.get_generation(session)
        assert (gen, set_id) == (gen1, new_id) and gen1 == gen0 + 1
        actions = session.execute(text("SELECT action, actor FROM audit_log WHERE action='boundary_set.publish' "
                                       "ORDER BY id DESC")).first()
        assert tuple(actions) == ("boundary_set.publish", "tester")
