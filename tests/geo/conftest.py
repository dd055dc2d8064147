"""Fixtures for the coordinate engine tests: a small STRtree ServiceArea over the Bali Polsek.

``SimpleBaliArea`` is a deliberately plain stand-in for ``geo.index.JurisdictionIndex`` so the
coordinate engine can be tested on its own; ``bench/bench_validate.py`` reuses it when the
real index is not importable.

Hypothesis profiles: ``small`` (default, fast) and ``fuzz`` (100,000 examples), chosen with
the environment variable ``HYPOTHESIS_PROFILE``; tests apply :data:`PROFILE` explicitly so
other test areas keep their own settings.
"""

from __future__ import annotations

import os

import pytest
import shapely
from hypothesis import HealthCheck, settings
from shapely import STRtree
from shapely.geometry import Point

from geo_service.geo.area import COASTAL_BAND_M, AreaHit, Unit
from geo_service.geo.bundled import load_bali_units
from geo_service.geo.distance import distance_to_geometry_m

# The default profile is derandomized so that CI is reproducible; the fuzz profile explores freely.
settings.register_profile(
    "small", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=100_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_NAME = os.environ.get("HYPOTHESIS_PROFILE", "small")
#: Settings for the hypothesis tests of this folder.
PROFILE = settings.get_profile(_NAME if _NAME in ("small", "fuzz") else "small")


class SimpleBaliArea:
    """ServiceArea over the Polsek polygons: inside / at sea within the band / outside."""

    def __init__(self, units: list[Unit], band_m: float = COASTAL_BAND_M) -> None:
        self.band_m = band_m
        self.units = {u.code: u for u in units}
        leaves = sorted((u for u in units if u.level == "polsek"), key=lambda u: u.code)
        self.codes = [u.code for u in leaves]
        self.geoms = [u.geometry for u in leaves]
        for g in self.geoms:
            shapely.prepare(g)
        self.tree = STRtree(self.geoms)

    def classify_xy(self, lon: float, lat: float) -> AreaHit:
        """Inside the lowest-coded covering Polsek, at sea within the band, or outside."""
        p = Point(lon, lat)
        hits = [i for i in self.tree.query(p) if self.geoms[i].covers(p)]
        if hits:
            return AreaHit("inside", self.codes[min(hits)], 0.0)
        i = int(self.tree.nearest(p))
        d = distance_to_geometry_m(lon, lat, self.geoms[i])
        return AreaHit("at_sea" if d <= self.band_m else "outside", self.codes[i], d)

    def unit_covers_xy(self, code: str, lon: float, lat: float) -> bool:
        """True when unit ``code`` covers the point."""
        unit = self.units.get(code)
        return unit is not None and bool(unit.geometry.covers(Point(lon, lat)))

    def reference_point(self, code: str) -> tuple[float, float] | None:
        """A point inside the unit."""
        unit = self.units.get(code)
        if unit is None:
            return None
        p = unit.geometry.representative_point()
        return (p.x, p.y)

    def default_points(self) -> list[tuple[float, float, str]]:
        """Centroids of the Polsek polygons."""
        out = []
        for code, g in zip(self.codes, self.geoms, strict=True):
            c = g.centroid
            out.append((c.x, c.y, self.units[code].name))
        return out


@pytest.fixture(scope="session")
def bali_units() -> list[Unit]:
    """The 67 bundled Bali units."""
    return load_bali_units()


@pytest.fixture(scope="session")
def bali_area(bali_units: list[Unit]) -> SimpleBaliArea:
    """A ServiceArea over the bundled Bali Polsek polygons."""
    return SimpleBaliArea(bali_units)
