"""The in-memory jurisdiction index of this process, kept in step with the database.

Every worker (and every host) polls ``app_state.generation`` at most once per
``reload_interval_s`` seconds; when it changed, the published set is read and a new index
is built *beside* the old one, then swapped in with one reference assignment, so requests in
flight keep answering from the old index. When the database cannot be reached the holder
keeps the index it has and reports itself degraded.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from geo_service.config import Settings
from geo_service.geo.area import Unit
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.stations import Station
from geo_service.storage import repo
from geo_service.storage.db import Storage

LOGGER = logging.getLogger(__name__)
#: Seconds between probes of the database while it is away.
DEGRADED_RETRY_S = 5.0


def build_index(
    units: Sequence[Unit], stations: Sequence[dict[str, Any]], *, set_id: int | None, settings: Settings
) -> JurisdictionIndex:
    """Build an index from units and station dicts with the configured thresholds."""
    return JurisdictionIndex.build(
        units,
        set_id=set_id,
        stations=[Station(**s) for s in stations],
        coastal_band_m=settings.coastal_band_m,
        border_share=settings.border_share,
    )


class IndexHolder:
    """Holds the current :class:`JurisdictionIndex` and reloads it when a publish happened."""

    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.settings = settings
        self._index: JurisdictionIndex | None = None
        self._generation = -1
        self._last_check = 0.0
        self._lock = threading.Lock()
        self.degraded = False
        self.last_error: str | None = None

    @property
    def generation(self) -> int:
        """Generation of the loaded index (-1 before the first load)."""
        return self._generation

    def current(self) -> JurisdictionIndex:
        """The index to answer from (loads it on first use)."""
        if self._index is None:
            self.refresh(force=True)
        if self._index is None:
            from geo_service.errors import ServiceUnavailable

            raise ServiceUnavailable("no boundary set is published yet", code="NO_BOUNDARY_SET")
        return self._index

    def maybe_refresh(self) -> None:
        """Check the published generation if the poll interval has passed (cheap)."""
        now = time.monotonic()
        # While the database is away, probe it less often: each probe may wait for a connect timeout.
        interval = max(self.settings.reload_interval_s, DEGRADED_RETRY_S) if self.degraded \
            else self.settings.reload_interval_s
        if now - self._last_check < interval:
            return
        self.refresh()

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the index when the published generation changed; True when it reloaded."""
        with self._lock:
            self._last_check = time.monotonic()
            try:
                with self.storage.session() as session:
                    generation, set_id, station_set_id = repo.get_generation(session)
                    if not force and generation == self._generation and self._index is not None:
                        self.degraded = False
                        return False
                    units = repo.load_units(session, set_id) if set_id is not None else []
                    stations = repo.load_stations(session, station_set_id)
            except SQLAlchemyError as exc:
                self.degraded = True
                self.last_error = str(exc).splitlines()[0]
                LOGGER.warning("database unreachable, answering from the loaded index: %s", self.last_error)
                return False
            self.degraded = False
            if set_id is None:
                self._generation = generation
                return False
            started = time.perf_counter()
            index = build_index(units, stations, set_id=set_id, settings=self.settings)
            self._index = index  # one reference assignment: requests in flight keep the old one
            self._generation = generation
            LOGGER.info(
                "jurisdiction index loaded: set %s, %d units, %d stations, generation %d, %.0f ms",
                set_id, len(units), len(stations), generation, (time.perf_counter() - started) * 1000,
            )
            return True


def read_sample_stations(path: Path) -> list[dict[str, Any]]:
    """Read the bundled *sample* station file (every station marked ``sample: true``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for feat in data["features"]:
        p = feat["properties"]
        lon, lat = feat["geometry"]["coordinates"][:2]
        out.append({
            "code": str(p["code"]), "name": str(p["name"]), "unit_code": p.get("unit_code"),
            "lon": float(lon), "lat": float(lat), "phone": p.get("phone"), "sample": True,
        })
    return out
