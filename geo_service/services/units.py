"""GeoJSON views of units for the API and the maps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry import mapping

from geo_service.geo.area import Unit
from geo_service.geo.index import JurisdictionIndex


def _geometry(unit: Unit, simplify: float) -> dict[str, Any]:
    geom = unit.geometry
    if simplify > 0:
        # Display only: topology may shift by up to `simplify` degrees; never used for answers.
        geom = shapely.simplify(geom, simplify, preserve_topology=True)
    geom = shapely.set_precision(geom, 1e-6) if simplify > 0 else geom
    return mapping(geom)


def unit_properties(unit: Unit) -> dict[str, Any]:
    """The properties every unit feature carries."""
    return {"code": unit.code, "name": unit.name, "level": unit.level, "parent_code": unit.parent_code}


def units_geojson(units: Iterable[Unit], *, simplify: float = 0.0) -> dict[str, Any]:
    """A FeatureCollection of units."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": u.code, "properties": unit_properties(u), "geometry": _geometry(u, simplify)}
            for u in units
        ],
    }


def index_units_geojson(index: JurisdictionIndex, *, level: str | None, simplify: float) -> dict[str, Any]:
    """The published units (optionally one level) as GeoJSON."""
    units = [u for u in index.units.values() if level is None or u.level == level]
    units.sort(key=lambda u: u.code)
    fc = units_geojson(units, simplify=simplify)
    fc["boundary_set"] = index.set_id
    return fc


def unit_feature(index: JurisdictionIndex, unit: Unit, *, simplify: float = 0.0) -> dict[str, Any]:
    """One unit as a Feature, with its parents named."""
    props = unit_properties(unit)
    props["chain"] = {level: {"code": u.code, "name": u.name} for level, u in index.chain(unit.code).items()}
    props["children"] = sorted(c.code for c in index.children(unit.code))
    return {"type": "Feature", "id": unit.code, "properties": props, "geometry": _geometry(unit, simplify),
            "boundary_set": index.set_id}
