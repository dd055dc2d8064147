"""The in-memory jurisdiction index of this process, kept in step with the database.

Every worker (and every host) polls ``app_state.generation`` at most once per
``reload_interval_s`` seconds; when it changed, the published set is read and a new index
is built *beside* the old one, then swapped in with one reference assignment, so requests in
flight keep answering from the old index. When the database cannot be reached the holder
keeps the index it has and reports itself degraded.

Dated sets: every published (or scheduled) set has an ``effective_from``. The set in force at a
moment ``t`` is decided by :func:`set_in_force`; :meth:`IndexHolder.index_at` answers with its
index, built lazily on first use and kept in a small LRU (:data:`MAX_DATED_INDEXES`), so an
``"at"`` lookup of last year costs one build, then ~10 µs like any other lookup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
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
#: Indexes of sets other than the current one kept in memory (least recently used dropped).
MAX_DATED_INDEXES = 4


def set_in_force(dated: Sequence[tuple[int, datetime, datetime]], current_id: int | None,
                 at: datetime) -> int | None:
    """The boundary set answering for moment ``at``.

    ``dated`` holds ``(set id, effective_from, published_at)`` of every published or
    scheduled set. From the current (published) set's ``effective_from`` on, the current set
    answers, unless a set scheduled *after* it was published takes effect by ``at`` (the latest
    such one). Before it, the set with the latest ``effective_from`` not after ``at`` answers
    (ties: the later publication). Before every dated set, the earliest one answers (the
    answer then carries ``AT_BEFORE_EARLIEST_SET``, see :meth:`IndexHolder.earliest_from`).

    Rollback: re-publishing an older set makes it the current one, so it answers from its own
    ``effective_from`` on (today included); sets dated after it are set aside until one of them
    is published (or scheduled) again, while moments before it still answer from the sets in
    force then.

    >>> d = datetime(2024, 11, 11, tzinfo=UTC); e = datetime(2016, 5, 3, tzinfo=UTC)
    >>> rows = [(1, e, d), (2, d, d)]
    >>> set_in_force(rows, 2, datetime(2024, 6, 1, tzinfo=UTC)), set_in_force(rows, 2, d)
    (1, 2)
    >>> set_in_force(rows, 2, datetime(2010, 1, 1, tzinfo=UTC))
    1
    """
    by_id = {i: (eff, pub) for i, eff, pub in dated}
    current = by_id.get(current_id) if current_id is not None else None
    if current is not None and at >= current[0]:
        scheduled = [(eff, pub, i) for i, (eff, pub) in by_id.items()
                     if current[0] < eff <= at and pub >= current[1] and i != current_id]
        return max(scheduled)[2] if scheduled else current_id
    earlier = [(eff, pub, i) for i, (eff, pub) in by_id.items() if eff <= at]
    if earlier:
        return max(earlier)[2]
    first = min((eff for eff, _pub in by_id.values()), default=None)
    return max((pub, i) for i, (eff, pub) in by_id.items() if eff == first)[1] if first is not None else current_id


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
        self._current_id: int | None = None
        self._dated: list[tuple[int, datetime, datetime]] = []
        self._stations: list[dict[str, Any]] = []
        self._others: OrderedDict[int, JurisdictionIndex] = OrderedDict()
        #: The set in force now and the dates between which it stays so (see :meth:`_set_in_force_now`).
        self._now: tuple[list[tuple[int, datetime, datetime]], int | None, datetime, datetime, int | None] | None = None

    @property
    def generation(self) -> int:
        """Generation of the loaded index (-1 before the first load)."""
        return self._generation

    @property
    def loaded(self) -> JurisdictionIndex | None:
        """The index loaded last, without loading or reloading anything (None before the first load)."""
        return self._index

    def current(self) -> JurisdictionIndex:
        """The index to answer from now (loads it on first use; a scheduled set once it is due)."""
        if self._index is None:
            self.refresh(force=True)
        if self._index is None:
            from geo_service.errors import ServiceUnavailable

            raise ServiceUnavailable("no boundary set is published yet", code="NO_BOUNDARY_SET")
        if len(self._dated) > 1:
            return self.index_at(None)
        return self._index

    def earliest_from(self) -> datetime | None:
        """When the earliest published set takes effect (None before the first load or undated)."""
        return min((eff for _i, eff, _pub in self._dated), default=None)

    def index_at(self, at: datetime | None) -> JurisdictionIndex:
        """The index of the set in force at ``at`` (now when None), built on first use."""
        if self._index is None:
            return self.current()
        set_id = set_in_force(self._dated, self._current_id, at) if at is not None else self._set_in_force_now()
        if set_id is None or set_id == self._current_id:
            return self._index
        with self._lock:
            index = self._others.get(set_id)
            if index is not None:
                self._others.move_to_end(set_id)
                return index
            started = time.perf_counter()
            with self.storage.session() as session:
                units = repo.load_units(session, set_id)
            index = build_index(units, self._stations, set_id=set_id, settings=self.settings)
            self._others[set_id] = index
            while len(self._others) > MAX_DATED_INDEXES:
                self._others.popitem(last=False)
            LOGGER.info("dated index loaded: set %s, %d units, %.0f ms", set_id, len(units),
                        (time.perf_counter() - started) * 1000)
            return index

    def _set_in_force_now(self) -> int | None:
        """``set_in_force`` now (every request without ``at`` asks). It compares the moment only
        with the sets' ``effective_from``, so its answer holds from the last of them not after now
        until the next one: kept with those dates and the set list it was made from."""
        now = datetime.now(UTC)
        dated, current_id, kept = self._dated, self._current_id, self._now
        if kept is not None and kept[0] is dated and kept[1] == current_id and kept[2] <= now < kept[3]:
            return kept[4]
        set_id = set_in_force(dated, current_id, now)
        since = max((eff for _i, eff, _pub in dated if eff <= now), default=datetime.min.replace(tzinfo=UTC))
        until = min((eff for _i, eff, _pub in dated if eff > now), default=datetime.max.replace(tzinfo=UTC))
        self._now = (dated, current_id, since, until, set_id)
        return set_id

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
                    dated = repo.dated_sets(session)
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
            self._current_id, self._dated, self._stations = set_id, dated, stations
            self._others = OrderedDict()
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
