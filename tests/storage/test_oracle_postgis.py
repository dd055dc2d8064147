"""Oracle: the in-memory index and PostGIS (ST_Covers + GiST) give the same unit for thousands of points."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from geo_service.storage import repo
from geo_service.storage.spatial import locate_code_sql, locate_codes_sql, nearest_code_sql
from tests.conftest import dispose_app, make_app


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app("postgis", tmp_path_factory.mktemp("oracle"))
    yield application
    dispose_app(application)


def _shared_border_vertices(index: Any, limit: int) -> np.ndarray:
    """Vertices that two neighbouring leaves both have (points exactly on a shared border)."""
    leaves = index.leaves
    pts: list[tuple[float, float]] = []
    tree = shapely.STRtree([u.geometry for u in leaves])
    for i, unit in enumerate(leaves):
        coords = {tuple(c) for c in shapely.get_coordinates(unit.geometry).round(6).tolist()}
        for j in tree.query(unit.geometry, predicate="touches"):
            if j <= i:
                continue
            other = {tuple(c) for c in shapely.get_coordinates(leaves[j].geometry).round(6).tolist()}
            pts.extend(list(coords & other)[:40])
        if len(pts) >= limit:
            break
    return np.array(pts[:limit])


def test_index_agrees_with_postgis_st_covers(pg_app: Any) -> None:
    holder = pg_app.extensions["geo_service"].holder
    index = holder.current()
    rng = np.random.default_rng(20261128)
    minx, miny, maxx, maxy = 114.35, -8.95, 115.80, -7.95
    # Random points over Bali and the sea around it, plus points on shared borders and unit vertices.
    rand = np.column_stack([rng.uniform(minx, maxx, 4000), rng.uniform(miny, maxy, 4000)])
    border = _shared_border_vertices(index, 1500)
    assert len(border) >= 500
    pts = np.vstack([rand, border])
    ours = index.codes_for(index.locate_many(pts[:, 0], pts[:, 1])).tolist()
    with pg_app.extensions["geo_service"].storage.session() as session:
        _g, set_id, _s = repo.get_generation(session)
        theirs = locate_codes_sql(session, set_id, pts[:, 0], pts[:, 1])
        # single-point SQL path on a sample agrees with the batch SQL path
        for k in range(0, len(pts), 97):
            assert locate_code_sql(session, set_id, float(pts[k, 0]), float(pts[k, 1])) == theirs[k]
    disagree = [(tuple(pts[k]), ours[k], theirs[k]) for k in range(len(pts)) if ours[k] != theirs[k]]
    assert not disagree, f"{len(disagree)} of {len(pts)} disagree, e.g. {disagree[:5]}"
    inside = sum(c is not None for c in ours)
    assert 1000 < inside < len(pts)  # both land and sea were exercised


def test_nearest_unit_at_sea_agrees_with_postgis(pg_app: Any) -> None:
    index = pg_app.extensions["geo_service"].holder.current()
    rng = np.random.default_rng(7)
    pts = np.column_stack([rng.uniform(114.3, 115.9, 600), rng.uniform(-9.0, -7.9, 600)])
    pos = index.locate_many(pts[:, 0], pts[:, 1])
    sea = pts[pos < 0][:150]
    assert len(sea) > 50
    with pg_app.extensions["geo_service"].storage.session() as session:
        _g, set_id, _s = repo.get_generation(session)
        for lon, lat in sea:
            unit, dist = index.nearest_unit(float(lon), float(lat))
            code, pg_dist = nearest_code_sql(session, set_id, float(lon), float(lat))
            # PostGIS measures on the spheroid too: distances agree to a metre or 0.1 %.
            assert abs(dist - pg_dist) <= max(1.0, 0.001 * pg_dist), (lon, lat, dist, pg_dist)
            if abs(dist - pg_dist) < 0.5:
                assert unit.code == code or abs(dist - pg_dist) < 1e-6


def test_publish_in_one_process_seen_by_another(pg_app: Any, tmp_path: Path) -> None:
    """A second app (another process's view) on the same database reloads after a publish."""
    from geo_service.geo.bundled import load_bali_units
    from geo_service.web.app import create_app

    url = pg_app.config["_test_db_url"]
    other = create_app({"data_dir": str(tmp_path), "database_url": url, "secret_key": "test-secret-key-0123456789",
                        "reload_interval_s": 0.0})
    try:
        before = other.extensions["geo_service"].holder.current().set_id
        storage = pg_app.extensions["geo_service"].storage
        subset = [u for u in load_bali_units() if u.code == "51" or u.code.startswith("51.01")]
        with storage.transaction() as session:
            new = repo.create_boundary_set(session, name="Jembrana only", units=subset, source="upload",
                                           created_by="test")
            repo.publish_boundary_set(session, new.id, actor="test")
            new_id = new.id
        other.test_client().get("/health")  # any request polls the generation
        assert other.extensions["geo_service"].holder.current().set_id == new_id != before
        with storage.transaction() as session:
            repo.publish_boundary_set(session, before, actor="test")  # roll back for the other tests
        other.test_client().get("/health")
        assert other.extensions["geo_service"].holder.current().set_id == before
    finally:
        other.extensions["geo_service"].storage.engine.dispose()
