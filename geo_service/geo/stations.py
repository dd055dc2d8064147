"""Police stations and the k-nearest-station index (geodesic distance).

A station is a point with a code, a name and the code of the unit it belongs to. No public
list of police station positions was found (see ``boundaries/SOURCES.md``): the
bundled ``boundaries/sample_stations.geojson`` is a clearly marked *sample* (every feature
has ``"sample": true``) placed at each Polsek's representative point, for demos and tests.

Nearest stations are found in two steps: a cheap planar pre-selection (longitude scaled
by ``lon_scale`` at the stations' mean latitude) keeps the few stations that can be among
the k nearest, then their geodesic distances decide the order. Both steps and the ordering
are one compiled call (:func:`geo_service.geo.nearest_kernels.nearest_stations`, whose
distances are pyproj's ``Geod.inv`` bit for bit); :meth:`StationIndex._nearest_pyproj` is the
same list from ``GEOD.inv`` and ``sorted``, the tests' oracle.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo_service.errors import BoundaryFileError
from geo_service.geo.distance import lon_scale
from geo_service.geo.geometry import GEOD, M_PER_DEG_LAT_MIN
from geo_service.geo.nearest_kernels import nearest_stations, station_candidates

#: Slack of the planar pre-selection of stations beyond 3 % of the k-th distance (200 m, in degrees).
_SPARE_DEG = 200.0 / M_PER_DEG_LAT_MIN

#: No preferred unit (an empty span of the compiled call's preferred stations).
_NO_UNIT = (0, 0)

#: The bundled sample station file (not real station positions).
SAMPLE_STATIONS_PATH = Path(__file__).resolve().parents[2] / "boundaries" / "sample_stations.geojson"


@dataclass(frozen=True)
class Station:
    """One police station (position in EPSG:4326); ``sample`` marks made-up demo stations."""

    code: str
    name: str
    unit_code: str
    lon: float
    lat: float
    phone: str | None = None
    sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping of the station."""
        return {
            "code": self.code, "name": self.name, "unit_code": self.unit_code,
            "lat": self.lat, "lon": self.lon, "phone": self.phone, "sample": self.sample,
        }


@dataclass(frozen=True)
class StationHit:
    """A station and its geodesic distance in metres from the query point."""

    station: Station
    distance_m: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: the station's fields plus ``distance_m``."""
        return {**self.station.to_dict(), "distance_m": round(self.distance_m, 1)}


class StationIndex:
    """Immutable index answering "the k stations nearest to a point"."""

    __slots__ = ("_stations", "_lons", "_lats", "_by_unit", "_k0", "_z", "_zx", "_zy", "_lon_list", "_lat_list",
                 "_data", "_ints", "_unit_span")

    def __init__(self, stations: Sequence[Station]) -> None:
        self._stations: tuple[Station, ...] = tuple(stations)
        self._lons = np.array([s.lon for s in self._stations], dtype=float)
        self._lats = np.array([s.lat for s in self._stations], dtype=float)
        self._lon_list, self._lat_list = self._lons.tolist(), self._lats.tolist()
        # Positions as complex numbers in a frame isotropic at the stations' mean latitude:
        # one subtraction and one abs() give every pre-selection distance.
        self._k0 = lon_scale(float(self._lats.mean())) if len(self._lats) else 1.0
        self._z = self._lons * self._k0 + 1j * self._lats
        self._zx, self._zy = np.ascontiguousarray(self._z.real), np.ascontiguousarray(self._z.imag)
        # The compiled pre-selection is loaded from numba's cache (or compiled, seconds, where there is
        # none) by a first call: here, with the index, so that no request pays for it (as the leaf index
        # does for its kernels).
        station_candidates(np.zeros(2), np.zeros(2), 0.0, 0.0, 1, _SPARE_DEG)
        by_unit: dict[str, list[int]] = {}
        for i, s in enumerate(self._stations):
            by_unit.setdefault(s.unit_code, []).append(i)
        self._by_unit = {k: tuple(v) for k, v in by_unit.items()}
        # The compiled nearest-station call's inputs (nearest_kernels.nearest_stations): the frame's x, y,
        # the longitudes and latitudes as rows of one array; each station's rank in the order of (code,
        # position), so that distance ties order as sorted() orders them by code, followed by each unit's
        # stations (unit -> their span in it).
        n = len(self._stations)
        self._data = np.ascontiguousarray(np.stack([self._zx, self._zy, self._lons, self._lats]).reshape(4, n))
        rank = np.empty(n, dtype=np.int64)
        rank[sorted(range(n), key=lambda i: (self._stations[i].code, i))] = np.arange(n, dtype=np.int64)
        members = [i for v in by_unit.values() for i in v]
        self._ints = np.concatenate([rank, np.array(members, dtype=np.int64)])
        self._unit_span: dict[str, tuple[int, int]] = {}
        start = n
        for unit, v in by_unit.items():
            self._unit_span[unit] = (start, start + len(v))
            start += len(v)
        # Loaded (or compiled) here, with the types a request passes, as station_candidates above.
        nearest_stations(np.zeros((4, 2)), np.zeros(3, dtype=np.int64), 0.0, 0.0, 1, _SPARE_DEG, 0.0, 0.0, 2, 3)

    @classmethod
    def build(cls, stations: Sequence[Station]) -> StationIndex:
        """Build the index; raises ValueError on duplicate codes or impossible coordinates.

        Examples
        --------
        >>> idx = StationIndex.build([Station("S1", "A", "51.01.01", 114.6, -8.3)])
        >>> [h.station.code for h in idx.nearest(114.6, -8.31, 1)]
        ['S1']
        """
        seen: set[str] = set()
        for s in stations:
            if s.code in seen:
                raise ValueError(f"duplicate station code {s.code!r}")
            seen.add(s.code)
            if not (-180.0 <= s.lon <= 180.0 and -90.0 <= s.lat <= 90.0):
                raise ValueError(f"station {s.code!r} has coordinates outside lon/lat range")
        return cls(stations)

    @property
    def stations(self) -> tuple[Station, ...]:
        """All stations, in the order given."""
        return self._stations

    def __len__(self) -> int:
        return len(self._stations)

    def has_unit(self, unit_code: str) -> bool:
        """True when at least one station belongs to ``unit_code``."""
        return unit_code in self._by_unit

    def for_unit(self, unit_code: str) -> tuple[Station, ...]:
        """Stations belonging to ``unit_code`` (possibly none)."""
        return tuple(self._stations[i] for i in self._by_unit.get(unit_code, ()))

    def nearest(self, lon: float, lat: float, k: int = 3, prefer_unit: str | None = None) -> list[StationHit]:
        """The ``k`` stations nearest to ``(lon, lat)`` by geodesic distance, nearest first.

        When ``prefer_unit`` has a station, the nearest station of that unit comes first
        (even if farther than others), followed by the nearest others.

        Parameters
        ----------
        lon, lat : float
            Query point in degrees.
        k : int
            How many stations to return (fewer when the index holds fewer).
        prefer_unit : str or None
            Code of the responsible unit whose station should lead the list.

        Returns
        -------
        list of StationHit

        Examples
        --------
        >>> idx = StationIndex.build([Station("A", "A", "u1", 115.0, -8.0),
        ...                           Station("B", "B", "u2", 115.1, -8.0)])
        >>> [h.station.code for h in idx.nearest(115.09, -8.0, 2)]
        ['B', 'A']
        >>> [h.station.code for h in idx.nearest(115.09, -8.0, 2, prefer_unit="u1")]
        ['A', 'B']
        """
        n = len(self._stations)
        k = operator.index(k)  # an int64 k, as the warm-up's (slicing accepted any integer type)
        if k <= 0 or n == 0:
            return []
        k = min(k, n)  # the same list (every station is a candidate from k = n on); fits an int64
        # Floats: a Python int would compile an int64 variant of the kernel mid-request.
        lon, lat = float(lon), float(lat)
        pstart, pend = _NO_UNIT if prefer_unit is None else self._unit_span.get(prefer_unit, _NO_UNIT)
        out = nearest_stations(self._data, self._ints, lon * self._k0, lat, k, _SPARE_DEG, lon, lat, pstart, pend)
        if out.shape[0] == 0:  # a NaN distance (a latitude beyond 90, NaN or inf): sorted() decides as before
            return self._nearest_pyproj(lon, lat, k, prefer_unit)
        idx, dist = out.tolist()
        stations = self._stations
        return [StationHit(stations[int(i)], d) for i, d in zip(idx, dist, strict=True)]

    def _nearest_pyproj(self, lon: float, lat: float, k: int = 3, prefer_unit: str | None = None
                        ) -> list[StationHit]:
        """:meth:`nearest` from pyproj's ``Geod.inv`` (one call per candidate) and ``sorted`` on
        (distance, code, position): the tests' oracle, and the answer where a distance is NaN."""
        n = len(self._stations)
        if k <= 0 or n == 0:
            return []
        chosen = self._candidates(lon, lat, k)
        preferred = self._by_unit.get(prefer_unit, ()) if prefer_unit is not None else ()
        extra = [i for i in preferred if i not in chosen]
        idx = chosen + extra
        inv = GEOD.inv
        lons, lats, stations = self._lon_list, self._lat_list, self._stations
        hits = [(inv(lon, lat, lons[i], lats[i])[2], stations[i].code, i) for i in idx]
        hits.sort()
        if preferred:
            pset = set(preferred)
            first = next(h for h in hits if h[2] in pset)
            hits.remove(first)
            hits.insert(0, first)
        return [StationHit(self._stations[i], float(d)) for d, _, i in hits[:k]]

    def _candidates(self, lon: float, lat: float, k: int) -> list[int]:
        """Indices of the stations that can be among the k nearest (a superset, usually k).

        The compiled :func:`station_candidates`; :meth:`_candidates_numpy` is its oracle.
        """
        n = len(self._stations)
        if n <= k:
            return list(range(n))
        return station_candidates(self._zx, self._zy, lon * self._k0, lat, k,  # type: ignore[no-any-return]
                                  _SPARE_DEG).tolist()

    def _candidates_numpy(self, lon: float, lat: float, k: int) -> list[int]:
        """:meth:`_candidates` in numpy (the tests' oracle)."""
        n = len(self._stations)
        if n <= k:
            return list(range(n))
        d = np.abs(self._z - complex(lon * self._k0, lat))
        kth = float(np.partition(d, k - 1)[k - 1])
        # The frame's distances are within 1 % of geodesic ones near Bali and 2 % across
        # Indonesia; keep everything within 3 % (+ 200 m) of the k-th so geodesics decide.
        return np.flatnonzero(d <= kth * 1.03 + _SPARE_DEG).tolist()


def station_from_feature(feature: dict[str, Any]) -> Station:
    """Build a :class:`Station` from a GeoJSON Point feature (raises BoundaryFileError).

    Examples
    --------
    >>> station_from_feature({"type": "Feature", "geometry": {"type": "Point",
    ...     "coordinates": [115.2, -8.6]}, "properties": {"code": "S", "name": "N",
    ...     "unit_code": "51.71.01"}}).lat
    -8.6
    """
    geom = feature.get("geometry") or {}
    props = feature.get("properties") or {}
    if geom.get("type") != "Point":
        raise BoundaryFileError("every station feature must be a Point")
    try:
        lon, lat = (float(v) for v in geom["coordinates"][:2])
        code, name, unit_code = str(props["code"]), str(props["name"]), str(props["unit_code"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BoundaryFileError(f"station feature lacks code, name, unit_code or coordinates: {exc}") from exc
    phone = props.get("phone")
    return Station(code=code, name=name, unit_code=unit_code, lon=lon, lat=lat,
                   phone=None if phone is None else str(phone), sample=bool(props.get("sample", False)))


def load_stations_geojson(path: Path = SAMPLE_STATIONS_PATH) -> list[Station]:
    """Read stations from a GeoJSON FeatureCollection of Points (default: the bundled sample).

    Examples
    --------
    >>> stations = load_stations_geojson()
    >>> all(s.sample for s in stations), stations[0].name.startswith("CONTOH")
    (True, True)
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [station_from_feature(f) for f in data.get("features", [])]
