"""Boundary sets and station sets: one list / detail / publish flow for the CLI, the admin API and the pages.

Both kinds are versioned the same way: an import stores a checked *draft*, publishing flips
``app_state`` in one transaction (409 ``SET_HAS_ERRORS`` when the report has errors), and
re-publishing an older set is the rollback. A :class:`SetKind` holds what differs between them
(the storage functions, the summary, what is counted); :data:`BOUNDARY_SETS` and
:data:`STATION_SETS` are the two kinds. Reading a file into a set stays with each kind
(:func:`geo_service.services.boundaries.import_boundaries` / ``import_stations``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo_service.services import boundaries
from geo_service.storage import repo


@dataclass(frozen=True)
class SetKind:
    """What differs between boundary sets and station sets."""

    #: ``boundary`` or ``station`` (``"boundary set 3"`` in messages).
    name: str
    #: The summary field that counts the set's items: ``units`` or ``stations``.
    count_key: str
    #: The slot of the published set's id in :func:`geo_service.storage.repo.get_generation`.
    generation_slot: int
    get_row: Callable[[Session, int], Any]
    list_rows: Callable[[Session], list[tuple[Any, int]]]
    count_items: Callable[[Session, int], int]
    summarise: Callable[[Any, int, int | None], dict[str, Any]]
    publish_row: Callable[..., int]
    #: Extra fields of one set's detail (the stations themselves for a station set).
    detail_extra: Callable[[Session, int], dict[str, Any]] = lambda _session, _set_id: {}
    #: Adjusts summaries that depend on other sets (a dated boundary set answering history).
    mark: Callable[[Session, list[dict[str, Any]]], list[dict[str, Any]]] = lambda _session, rows: rows

    @property
    def label(self) -> str:
        """``boundary set`` or ``station set``."""
        return f"{self.name} set"

    def published_id(self, session: Session) -> int | None:
        """The id of the published set of this kind (None before the first publication)."""
        return repo.get_generation(session)[self.generation_slot]

    def listing(self, session: Session) -> dict[str, Any]:
        """``{"published": id, "sets": [summary, ...]}``, newest first."""
        published = self.published_id(session)
        return {"published": published,
                "sets": self.mark(session, [self.summarise(row, n, published) for row, n in self.list_rows(session)])}

    def summary(self, session: Session, set_id: int) -> dict[str, Any]:
        """One set's summary (404 when it does not exist)."""
        return self.mark(session, [self.summarise(self.get_row(session, set_id), self.count_items(session, set_id),
                                                  self.published_id(session))])[0]

    def detail(self, session: Session, set_id: int) -> dict[str, Any]:
        """One set's summary with its check ``report`` (and the kind's extra fields)."""
        row = self.get_row(session, set_id)
        body = self.mark(session, [self.summarise(row, self.count_items(session, set_id), self.published_id(session))])[0]
        body["report"] = row.report or {"errors": [], "warnings": [], "info": []}
        body.update(self.detail_extra(session, set_id))
        return body

    def publish(self, session: Session, set_id: int, *, actor: str, request_id: str | None = None) -> int:
        """Publish a set (409 when its report has errors); returns the new generation."""
        return int(self.publish_row(session, set_id, actor=actor, request_id=request_id))


BOUNDARY_SETS = SetKind(
    name="boundary", count_key="units", generation_slot=1,
    get_row=repo.get_boundary_set, list_rows=repo.list_boundary_sets, count_items=repo.count_units,
    summarise=boundaries.set_summary, publish_row=boundaries.publish, mark=boundaries.mark_history,
)
STATION_SETS = SetKind(
    name="station", count_key="stations", generation_slot=2,
    get_row=repo.get_station_set, list_rows=repo.list_station_sets,
    count_items=repo.count_stations,
    summarise=boundaries.station_set_summary, publish_row=repo.publish_station_set,
    detail_extra=lambda session, set_id: {"items": repo.load_stations(session, set_id)},
)
#: The kinds by name, as the CLI groups and the pages name them.
SET_KINDS = {kind.name: kind for kind in (BOUNDARY_SETS, STATION_SETS)}
