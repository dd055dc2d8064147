"""First start: load the bundled Bali boundary set (and the sample stations) into an empty database."""

from __future__ import annotations

import logging

from geo_service.config import Settings
from geo_service.geo.area import Unit
from geo_service.geo.bundled import BOUNDARIES_DIR, load_bali_units
from geo_service.geo.geometry import geodesic_area_m2
from geo_service.services.registry import read_sample_stations
from geo_service.services.structure import load_bali_structure_units
from geo_service.storage import repo
from geo_service.storage.db import Storage

LOGGER = logging.getLogger(__name__)
SAMPLE_STATIONS = BOUNDARIES_DIR / "sample_stations.geojson"


def unit_areas_m2(units: list[Unit]) -> dict[str, float]:
    """Geodesic area of each unit in m² (WGS 84 ellipsoid)."""
    return {u.code: geodesic_area_m2(u.geometry) for u in units}


def ensure_bundled(storage: Storage, settings: Settings) -> bool:
    """Load and publish the bundled sets when the database has none; True when it loaded."""
    loaded = False
    with storage.transaction() as session:
        repo.get_state(session, for_update=True)  # serialises concurrent first starts on PostGIS
        has_sets = repo.count_sets(session, "boundary")
        if not has_sets and settings.load_bundled:
            # The reviewed Polri structure, dissolved through the admins' mapping path (services.structure).
            if settings.bundled_set == "admin":
                units = load_bali_units()
                name, file_name = "Bali — batas administrasi (bawaan)", "boundaries/bali_kecamatan.geojson"
                stored_report = {"errors": [], "warnings": [], "info": [
                    {"code": "DERIVED_FROM_ADMIN_AREAS", "severity": "info", "units": [],
                     "message": "Units derived from administrative boundaries (kabupaten/kecamatan), "
                                "not official police jurisdictions."}]}
            else:
                units, report, _mapping = load_bali_structure_units()
                report.add("STRUCTURE_FILE", "info",
                           "Units from boundaries/police_structure.csv (sources per row in boundaries/SOURCES.md); "
                           "rows marked derived follow administrative areas; special-area polygons are approximate.")
                name, file_name = "Bali — struktur Polri (bawaan)", "boundaries/police_structure.csv"
                stored_report = report.to_dict()
            bset = repo.create_boundary_set(
                session,
                name=name,
                units=units,
                source="bundled",
                created_by="system",
                file_name=file_name,
                report=stored_report,
                area_m2=unit_areas_m2(units),
            )
            repo.publish_boundary_set(session, bset.id, actor="system")
            LOGGER.info("bundled boundary set loaded: %d units", len(units))
            loaded = True
        has_station_sets = repo.count_sets(session, "station")
        if not has_station_sets and settings.sample_stations and SAMPLE_STATIONS.exists():
            sset = repo.create_station_set(
                session,
                name="CONTOH — pos polisi sampel, bukan data nyata",
                stations=read_sample_stations(SAMPLE_STATIONS),
                source="sample",
                created_by="system",
                file_name="boundaries/sample_stations.geojson",
            )
            repo.publish_station_set(session, sset.id, actor="system")
    return loaded
