"""The OpenAPI 3 document, generated from the route table so it stays true.

Each API view carries its own description via :func:`doc`; :func:`build_openapi` walks
``app.url_map``. A test fails when an ``/api/`` route has no ``doc``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from geo_service.geo.validate import STATUSES

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM = {"$ref": "#/components/schemas/Problem"}
LOCATION_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "maxLength": 100000,
                 "description": "anything a caller or phone sends, alone or inside a forwarded message "
                                "(words, emoji, line breaks around it): DD, DMS, DDM, dotted D.M.S, compact "
                                "DDMM.mmS, UTM, MGRS, Plus Code, geo: URI, share links of Google Maps, Apple "
                                "Maps, Waze, Bing, OsmAnd, HERE and OpenStreetMap, JSON lat/lng, GeoJSON, "
                                "WKT/EWKT, KML, NMEA GGA/RMC, lat=..&lon=.., AML. Short links are refused "
                                "(SHORT_LINK_UNRESOLVED) unless the server may expand them; several different "
                                "points make the answer suspect with each as a candidate; or a place name "
                                "('Desa Baler Bale Agung, Negara') when no coordinate format reads it"},
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "crs": {"type": "string", "example": "EPSG:32750"},
        "uncertainty_m": {"type": "number", "minimum": 0, "maximum": 1000000},
        "hint_unit": {"type": "string", "maxLength": 40, "example": "51.01"},
        "at": {"type": "string", "format": "date-time", "example": "2024-06-01T10:00:00+08:00",
               "description": "answer with the police structure in force at this moment (ISO 8601 with offset); "
                              "the batch endpoints take it once, as the query parameter ?at="},
    },
    "additionalProperties": True,
}
SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "code": {"type": "string"}, "request_id": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
        },
        "required": ["type", "title", "status", "detail", "code"],
    },
    "LocationBody": LOCATION_BODY,
    "Point": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
    "Flag": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                              "params": {"type": "object"}}},
    "Validation": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": list(STATUSES),
                       "description": "approximate: a place name, its point stands for an area of uncertainty_m"},
            "point": {"oneOf": [{"$ref": "#/components/schemas/Point"}, {"type": "null"}]},
            "original": {"oneOf": [{"$ref": "#/components/schemas/Point"}, {"type": "null"}]},
            "format": {"type": ["string", "null"]},
            "uncertainty_m": {"type": ["number", "null"]},
            "confidence": {"type": "number"},
            "flags": {"type": "array", "items": {"$ref": "#/components/schemas/Flag"}},
            "candidates": {"type": "array"},
            "place": {"type": "object", "description": "the place named by the text (format 'place')"},
        },
        "required": ["status", "point", "flags"],
    },
    "Unit": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
}


def doc(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    responses: dict[int, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    content_types: tuple[str, ...] = ("application/json",),
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach an OpenAPI operation description to a view."""

    def deco(fn: F) -> F:
        fn._openapi = {  # type: ignore[attr-defined]
            "summary": summary, "body": body, "responses": responses or {200: {"type": "object"}},
            "params": params or [], "content_types": content_types, "tags": list(tags),
        }
        return fn

    return deco


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route."""
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "_openapi", None)
        if spec is None:
            continue
        path, path_params = _path(rule.rule)
        access = getattr(view, "_access", False)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "summary": spec["summary"],
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "parameters": path_params + spec["params"],
                "responses": {
                    str(code): {"description": "OK" if code < 300 else "see body",
                                "content": {"application/json": {"schema": schema}}}
                    for code, schema in spec["responses"].items()
                },
                "tags": spec["tags"],
            }
            op["responses"]["default"] = {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}}
            if access is not None:
                op["security"] = [{"bearer": []}]
                op["x-roles"] = sorted(access) if isinstance(access, frozenset) else []
            if spec["body"] is not None and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {ct: {"schema": spec["body"]} for ct in spec["content_types"]}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "geo_service", "version": "1",
                 "description": "Coordinate validation and police jurisdiction service (Indonesia, line 110)."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
