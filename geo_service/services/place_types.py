"""Typed answer of the place search (``GET /api/v1/places``), as :class:`geo_service.geo.gazetteer.Match` gives it."""

from __future__ import annotations

from typing import Annotated, Literal

from geo_service.services.api_types import UNSET, Answer, Point, UnsetType, describe

PlaceKind = Literal["desa", "kelurahan", "kecamatan", "kabupaten", "kota", "provinsi"]


class PlaceParent(Answer):
    """A place the match lies in."""

    kind: str
    code: str
    name: str


class PlaceMatch(Answer):
    """A place matching the typed name, ranked."""

    kind: PlaceKind
    code: Annotated[str, describe("Kemendagri code (dotted)", examples=["51.01.01.1006"])]
    name: Annotated[str, describe("the place's name", examples=["Baler Bale Agung"])]
    parents: list[PlaceParent]
    point: Point
    radius_m: Annotated[float, describe("radius of a circle with the place's area")]
    score: Annotated[float, describe("100 = the name as written; see geo/gazetteer.py")]
    match: Literal["exact", "prefix", "fuzzy"] | UnsetType = UNSET
    preferred: Annotated[bool, describe("inside the hinted (or the caller's) unit")] | UnsetType = UNSET
    label: Annotated[str, describe("text that locates this place when sent to /api/v1/locate")] | UnsetType = UNSET
