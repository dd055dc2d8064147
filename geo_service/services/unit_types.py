"""Typed answers of the units API: GeoJSON features of the units of a set."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from geo_service.services.api_types import UNSET, Answer, UnitRef, UnsetType, describe


class UnitProperties(Answer):
    """A unit's properties (``chain`` and ``children`` only for a single unit)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    chain: Annotated[dict[str, UnitRef], describe("the unit and its parents by level")] | UnsetType = UNSET
    children: list[str] | UnsetType = UNSET


class UnitFeature(Answer):
    """A unit as a GeoJSON Feature (WGS 84)."""

    type: Literal["Feature"]
    id: str
    properties: UnitProperties
    geometry: Annotated[dict[str, Any] | None, describe("GeoJSON (Multi)Polygon")]
    boundary_set: Annotated[int | None, describe("the set the unit belongs to")] | UnsetType = UNSET


class UnitCollection(Answer):
    """Units as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[UnitFeature]
    boundary_set: Annotated[int | None, describe("the set answering (not with ?set=)")] | UnsetType = UNSET
