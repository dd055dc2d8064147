"""The OpenAPI 3.1 document, generated from the route table and the typed bodies the views declare.

Each API view says what it is and what it takes and gives:

* :func:`doc` — summary, query parameters, tags;
* :func:`body` — the request body's type per content type (a ``msgspec.Struct`` from ``services/*_types.py``,
  or from the use case that decodes it: ``milestones.MilestoneCreate``, ``accounts.TokenCreate``, ...);
* :func:`answers` — the answer's type per status (and content type: ``text/csv`` answers are text);
* :func:`problems` — the error statuses it answers with (``application/problem+json``).

:func:`build_openapi` walks ``app.url_map`` and turns every declared type into a JSON Schema with
``msgspec.json.schema_components`` (shared components under ``#/components/schemas``). Statuses every
view of a kind can answer are added for it: 401/403 behind a role rule, 400/413/415 with a JSON body,
400/413 with an upload. ``tests/web/test_openapi_answers.py`` drives real requests through every
operation and validates each answer against this document; ``tests/web/test_basics.py`` fails when an
``/api/`` route has no :func:`doc`.

A declaration may still be a hand-written JSON Schema (a ``dict``): the locate/validate query and
answers stay hand-written here until their types land in ``services.answers`` (see :func:`answer_type`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import GenericAlias
from typing import Any, TypeVar

import msgspec
from flask import Flask

from geo_service.geo.validate import STATUSES
from geo_service.services.api_types import Point, Problem, UnitRef
from geo_service.web.auth import access_rule

F = TypeVar("F", bound=Callable[..., Any])
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
REF = "#/components/schemas/{name}"
CSV_TEXT: dict[str, Any] = {"type": "string", "description": "CSV text with a header row (UTF-8)"}
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

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
_UNIT_OR_NULL = {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]}
_JURISDICTION = {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
    lvl: _UNIT_OR_NULL for lvl in ("polda", "polres", "polsek")}}]}
#: Hand-written schemas of the locate/validate bodies (replaced by ``services.answers`` types at the merge
#: of issue 13's typed answer; see :func:`answer_type`).
SCHEMAS: dict[str, Any] = {
    "LocationBody": LOCATION_BODY,
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
    "LocateAnswer": {
        "allOf": [{"$ref": "#/components/schemas/Validation"}],
        "type": "object",
        "description": "the validation plus the responsible units, the candidates of the uncertainty circle "
                       "and the nearest stations",
        "properties": {
            "match": {"type": "string", "enum": ["inside", "border", "nearest", "none"]},
            "jurisdiction": _JURISDICTION,
            "distance_m": {"type": ["number", "null"]},
            "stations": {"type": "array", "items": {"type": "object"}},
            "boundary_set": {"type": ["integer", "null"], "description": "the set that answered"},
            "mabes": _UNIT_OR_NULL,
            "unit_types": {"type": "object"},
            "special_area": {"type": ["object", "null"]},
            "at": {"type": "string", "format": "date-time"},
            "fix": {"type": "object", "description": "the caller's fix (location requests)"},
        },
        "required": ["match", "jurisdiction"],
    },
    "CompactLocate": {
        "type": "object",
        "description": "one row of a batch answer (flags as codes only)",
        "properties": {
            "status": {"type": "string", "enum": list(STATUSES)},
            "point": {"oneOf": [{"$ref": "#/components/schemas/Point"}, {"type": "null"}]},
            "format": {"type": ["string", "null"]},
            "match": {"type": "string"},
            "jurisdiction": _JURISDICTION,
            "distance_m": {"type": ["number", "null"]},
            "confidence": {"type": "number"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "error": {"type": "object", "description": "why this row could not be read"},
        },
        "required": ["status", "point", "flags"],
    },
}


class AnswerType:
    """The type ``name`` of ``services.answers``, looked up when the document is built; ``fallback`` (a
    hand-written schema) while that module or name does not exist.

    LEAD, at the merge of h2 (issue 13, typed answer): ``services.answers`` defines the locate/validate
    query and answer types; the names asked for in ``web/api.py`` (``ValidateQuery``, ``LocateQuery``,
    ``ValidationAnswer``, ``LocateAnswer``, ``CompactLocate``) must match them, and
    ``api_types.LocationRef``/``LocateAnswerRef`` name the components the query and answer become.
    """

    def __init__(self, name: str, fallback: dict[str, Any]) -> None:
        self.name, self.fallback = name, fallback

    def resolve(self) -> Any:
        """The type, or the fallback schema."""
        try:  # the module as registered now (``from package import`` would prefer the package attribute)
            answers = importlib.import_module("geo_service.services.answers")
        except ImportError:
            return self.fallback
        return getattr(answers, self.name, self.fallback)


def answer_type(name: str, fallback: dict[str, Any]) -> AnswerType:
    """See :class:`AnswerType`."""
    return AnswerType(name, fallback)


def _spec(fn: Any) -> dict[str, Any]:
    spec: dict[str, Any] = fn.__dict__.setdefault("_openapi", {
        "summary": None, "body": {}, "responses": {}, "params": [], "tags": [], "problems": set()})
    return spec


def doc(
    summary: str,
    *,
    body: Any = None,
    responses: dict[int, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    content_types: tuple[str, ...] = (JSON,),
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Describe a view: summary, query parameters, tags (``body``/``responses`` as :func:`body`/:func:`answers`)."""

    def deco(fn: F) -> F:
        spec = _spec(fn)
        spec.update(summary=summary, params=params or [], tags=list(tags))
        if body is not None:
            for ct in content_types:
                spec["body"][ct] = body
        for status, schema in (responses or {}).items():
            spec["responses"].setdefault(status, {})[JSON] = schema
        return fn

    return deco


def body(schema: Any, *, content_types: Iterable[str] = (JSON,)) -> Callable[[F], F]:
    """Declare the request body: a type (``msgspec.Struct``, ``list[...]``, a union) or a JSON Schema dict."""

    def deco(fn: F) -> F:
        for ct in content_types:
            _spec(fn)["body"][ct] = schema
        return fn

    return deco


def answers(status: int, schema: Any = None, *, content_type: str = JSON) -> Callable[[F], F]:
    """Declare an answer: its status, its type (or JSON Schema dict; ``None``: no body) and content type."""

    def deco(fn: F) -> F:
        _spec(fn)["responses"].setdefault(status, {})[content_type] = schema
        return fn

    return deco


def problems(*statuses: int) -> Callable[[F], F]:
    """Declare the error statuses a view answers with (problem+json), beyond those of its kind."""

    def deco(fn: F) -> F:
        _spec(fn)["problems"].update(statuses)
        return fn

    return deco


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def _kind_problems(spec: dict[str, Any], access: Any) -> set[int]:
    """Statuses every view of this kind can answer: role rule, JSON body, upload."""
    out = set(spec["problems"])
    if access is not None:
        out |= {401, 403}
    body_types = set(spec["body"])
    if JSON in body_types:
        out |= {400, 413, 415}
    if body_types & {"multipart/form-data", "text/csv", "application/geo+json"}:
        out |= {400, 413}
    return out


class _Schemas:
    """Collects declared types and turns them into JSON Schemas with shared components in one pass."""

    def __init__(self) -> None:
        self.types: list[Any] = [Problem, Point, UnitRef]  # the hand-written SCHEMAS refer to these
        self.slots: list[tuple[dict[str, Any], str, int]] = []

    def put(self, target: Any, key: Any, declared: Any) -> None:
        """Set ``target[key]`` to the schema of ``declared``: a type (filled in by :meth:`resolve`), an
        :class:`AnswerType`, or a JSON Schema dict whose values may be any of these (``{"items": T}``),
        or lists of them (``{"anyOf": [T, U]}``)."""
        if isinstance(declared, AnswerType):
            declared = declared.resolve()
        if isinstance(declared, dict):
            target[key] = schema = dict(declared)
            for name, value in declared.items():
                if isinstance(value, dict | AnswerType | type | GenericAlias):
                    self.put(schema, name, value)
                elif isinstance(value, list):
                    schema[name] = items = list(value)
                    for i, item in enumerate(value):
                        if isinstance(item, dict | AnswerType | type | GenericAlias):
                            self.put(items, i, item)
        else:
            self.slots.append((target, key, len(self.types)))
            self.types.append(declared)

    def resolve(self) -> dict[str, Any]:
        schemas, components = msgspec.json.schema_components(self.types, ref_template=REF)
        for target, key, i in self.slots:
            target[key] = schemas[i]
        return {**SCHEMAS, **components}


def _operation(rule: Any, method: str, view: Any, spec: dict[str, Any], schemas: _Schemas) -> dict[str, Any]:
    path_params = _path(rule.rule)[1]
    responses: dict[str, Any] = {}
    for status, by_type in sorted(spec["responses"].items()):
        entry: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        content: dict[str, dict[str, Any]] = {ct: {} for ct, schema in by_type.items() if schema is not None}
        for ct, media in content.items():
            schemas.put(media, "schema", by_type[ct])
        if content:
            entry["content"] = content
        responses[str(status)] = entry
    if not responses:
        responses["200"] = {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}
    access = access_rule(view)
    problem = {PROBLEM_JSON: {"schema": {"$ref": REF.format(name="Problem")}}}
    for status in sorted(_kind_problems(spec, access)):
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase, "content": problem})
    responses["default"] = {"description": "problem", "content": problem}
    op: dict[str, Any] = {
        "summary": spec["summary"],
        "operationId": f"{rule.endpoint}.{method.lower()}",
        "parameters": path_params + spec["params"],
        "responses": responses,
        "tags": spec["tags"],
    }
    if access is not None:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = sorted(access) if isinstance(access, frozenset) else []
    if spec["body"] and method in ("POST", "PUT", "PATCH"):
        content = {ct: {} for ct in spec["body"]}
        for ct, media in content.items():
            schemas.put(media, "schema", spec["body"][ct])
        op["requestBody"] = {"required": True, "content": content}
    return op


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route (built once per app)."""
    cached = app.extensions.get("openapi_document")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    paths: dict[str, Any] = {}
    schemas = _Schemas()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "_openapi", None)
        if spec is None or spec["summary"] is None:
            continue
        path = _path(rule.rule)[0]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view, spec, schemas)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "geo_service", "version": "1",
                 "description": "Coordinate validation and police jurisdiction service (Indonesia, line 110)."},
        "paths": paths,
        "components": {"schemas": schemas.resolve(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
    app.extensions["openapi_document"] = document
    return document
