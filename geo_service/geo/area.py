"""Shared value types of the geo core: units, and the service-area protocol.

The coordinate engine (``geo.validate``) asks a :class:`ServiceArea` whether a candidate
point lands in the service area; the jurisdiction index (``geo.index``) implements it.
Keeping the protocol here lets both sides be written and tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from shapely.geometry.base import BaseGeometry

Level = Literal["polda", "polres", "polsek"]
LEVELS: tuple[Level, ...] = ("polda", "polres", "polsek")

#: Name prefixes of special-area units (airport, port, sea sectors): overlays over ordinary sectors.
SPECIAL_AREA_PREFIXES = ("Polsek Kawasan ", "Polres Kawasan ")

#: Default coastal band: 12 nautical miles (territorial sea), in metres.
COASTAL_BAND_M = 12 * 1852.0


@dataclass(frozen=True)
class Unit:
    """One police unit with its area (EPSG:4326)."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: BaseGeometry = field(compare=False, repr=False)


@dataclass(frozen=True)
class AreaHit:
    """Where a point falls relative to the service area.

    ``kind`` is ``"inside"`` (some unit covers it), ``"at_sea"`` (outside every unit but
    within the coastal band of one) or ``"outside"``. ``unit_code`` is the covering leaf
    unit, or the nearest one; ``distance_m`` is 0 when inside.
    """

    kind: Literal["inside", "at_sea", "outside"]
    unit_code: str | None
    distance_m: float


class ServiceArea(Protocol):
    """What the coordinate engine needs to know about the published jurisdictions."""

    def classify_xy(self, lon: float, lat: float) -> AreaHit:
        """Say whether ``(lon, lat)`` is inside a unit, at sea near one, or outside."""
        ...

    def unit_covers_xy(self, code: str, lon: float, lat: float) -> bool:
        """True when unit ``code`` (or any unit below it) covers ``(lon, lat)``."""
        ...

    def reference_point(self, code: str) -> tuple[float, float] | None:
        """A point inside unit ``code`` (``(lon, lat)``), or None when unknown."""
        ...

    def default_points(self) -> list[tuple[float, float, str]]:
        """Points that apps fall back to: unit centroids and station positions,
        as ``(lon, lat, label)``."""
        ...


def is_special_area(name: str) -> bool:
    """True for a special-area unit (its name says ``Kawasan``): an overlay with priority.

    >>> is_special_area("Polsek Kawasan Laut Benoa"), is_special_area("Polsek Kuta")
    (True, False)
    """
    return name.startswith(SPECIAL_AREA_PREFIXES)
