"""First start: load the bundled Bali boundary sets (one per structure version) and the sample stations into an empty database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geo_service.config import Settings
from geo_service.geo.area import Unit
from geo_service.geo.bundled import BOUNDARIES_DIR, load_bali_units
from geo_service.geo.geometry import geodesic_area_m2
from geo_service.services import structure
from geo_service.services.registry import read_sample_stations
from geo_service.storage import repo
from geo_service.storage.db import Storage

LOGGER = logging.getLogger(__name__)
SAMPLE_STATIONS = BOUNDARIES_DIR / "sample_stations.geojson"


def unit_areas_m2(units: list[Unit]) -> dict[str, float]:
    """Geodesic area of each unit in m² (WGS 84 ellipsoid)."""
    return {u.code: geodesic_area_m2(u.geometry) for u in units}


@dataclass(frozen=True)
class BundledVersion:
    """One bundled set to store: the ``create_boundary_set`` fields and its ``effective_from``."""

    fields: dict[str, Any]
    effective_from: datetime | None


def bundled_versions(settings: Settings) -> list[BundledVersion]:
    """The bundled sets of a first start, oldest first (the last one is today's).

    The Polri structure gives one set per structure version that changes a Bali unit
    (:func:`services.structure.version_days`), each in force from 00:00 WIB of its first day;
    the first is dated :data:`~geo_service.services.structure.STRUCTURE_START` (earlier moments
    answer from it with ``AT_BEFORE_EARLIEST_SET``). The admin-area set has no dates (from now).
    """
    if settings.bundled_set == "admin":
        units = load_bali_units()
        return [BundledVersion({
            "name": "Bali — batas administrasi (bawaan)", "units": units,
            "file_name": "boundaries/bali_kecamatan.geojson", "area_m2": unit_areas_m2(units),
            "report": {"errors": [], "warnings": [], "info": [
                {"code": "DERIVED_FROM_ADMIN_AREAS", "severity": "info", "units": [],
                 "message": "Units derived from administrative boundaries (kabupaten/kecamatan), "
                            "not official police jurisdictions."}]}}, None)]
    # The reviewed Polri structure, dissolved through the admins' mapping path (services.structure).
    admin = structure.bali_admin_areas()
    rows = structure.read_structure()
    days = [d for d in structure.version_days(admin, rows) if d <= date.today()]
    out = []
    for number, day in enumerate(days, start=1):
        units, report, _mapping = structure.build_structure_units(admin, on=day, rows=rows)
        report.add("STRUCTURE_FILE", "info",
                   "Units from boundaries/police_structure.csv (sources per row in boundaries/SOURCES.md); "
                   "rows marked derived follow administrative areas; special-area polygons are approximate.")
        out.append(BundledVersion({
            # The day is the set's effective_from (pages show it as people read dates), not part of its name.
            "name": f"Bali — struktur Polri (bawaan, versi {number})", "units": units,
            "file_name": "boundaries/police_structure.csv", "report": report.to_dict(),
            "area_m2": unit_areas_m2(units)}, structure.day_start(day)))
    return out


def ensure_bundled(storage: Storage, settings: Settings) -> bool:
    """Load and publish the bundled sets when the database has none; True when it loaded."""
    loaded = False
    with storage.transaction() as session:
        repo.get_state(session, for_update=True)  # serialises concurrent first starts on PostGIS
        has_sets = repo.count_sets(session, "boundary")
        if not has_sets and settings.load_bundled:
            for dated in bundled_versions(settings):
                bset = repo.create_boundary_set(session, source="bundled", created_by="system", **dated.fields)
                repo.publish_boundary_set(session, bset.id, actor="system", effective_from=dated.effective_from)
                LOGGER.info("bundled boundary set loaded: %d units, in force from %s", len(dated.fields["units"]),
                            dated.effective_from.date() if dated.effective_from else "now")
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
