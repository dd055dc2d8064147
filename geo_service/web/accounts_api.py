"""Admin API for bearer tokens and page users, and the dispatcher API for officer links (issue 7).

Thin views over :mod:`geo_service.services.accounts` and :mod:`geo_service.services.officer_links`.
Every action writes an audit record in the same transaction as the change. A clear token is
returned once, at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify

from geo_service.errors import InvalidInput
from geo_service.services import accounts, officer_links
from geo_service.services import incidents as incident_service
from geo_service.services.answers import to_builtins
from geo_service.services.locate import locate_location
from geo_service.storage import repo
from geo_service.web.api import json_body, request_lang
from geo_service.web.auth import TOKEN_CACHE, allow, require_principal
from geo_service.web.context import actor, db_session, index, places, service, write_transaction
from geo_service.web.openapi import SCHEMAS, doc

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")

ROLE_SCHEMA = {"type": "string", "enum": list(repo.ROLES)}
TOKEN_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["name", "role"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "role": ROLE_SCHEMA,
        "unit_code": {"type": "string", "maxLength": 40, "example": "51.01",
                      "description": "limit the token to this unit and the units below it"},
        "expires_in_days": {"type": "integer", "minimum": 1, "maximum": accounts.MAX_TOKEN_DAYS},
    },
}
TOKEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "role": ROLE_SCHEMA,
        "unit_code": {"type": ["string", "null"]}, "created_at": {"type": "string"},
        "created_by": {"type": "string"}, "expires_at": {"type": ["string", "null"]},
        "revoked_at": {"type": ["string", "null"]}, "last_used_at": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
    },
}
NEW_TOKEN_SCHEMA: dict[str, Any] = {
    **TOKEN_SCHEMA,
    "properties": {**TOKEN_SCHEMA["properties"],
                   "token": {"type": "string", "description": "the bearer token; shown only this once"}},
}
USER_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["username", "password", "role"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 80},
        "password": {"type": "string", "minLength": accounts.MIN_PASSWORD_CHARS, "maxLength": 200},
        "role": ROLE_SCHEMA,
        "unit_code": {"type": "string", "maxLength": 40},
    },
}
USER_PATCH_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"role": ROLE_SCHEMA, "unit_code": {"type": ["string", "null"], "maxLength": 40},
                   "disabled": {"type": "boolean"}},
    "additionalProperties": False,
}
USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "role": ROLE_SCHEMA,
                   "unit_code": {"type": ["string", "null"]}, "disabled": {"type": "boolean"},
                   "created_at": {"type": "string"}},
}
LINK_BODY: dict[str, Any] = {
    "oneOf": [
        SCHEMAS["LocationBody"],
        {"type": "object", "required": ["incident_id"], "properties": {"incident_id": {"type": "integer"}}},
    ],
    "description": "a location (as for /api/v1/locate) or an incident whose stored location is sent",
}
LINK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"url": {"type": "string", "example": "/p/<token>"}, "jti": {"type": "string"},
                   "expires_at": {"type": "string"}},
}


def _known_units() -> set[str] | None:
    holder = service().holder
    idx = holder._index  # noqa: SLF001 - the loaded index, if any (a fresh install may have none yet)
    return set(idx.units) if idx is not None else None


# ------------------------------------------------------------------ tokens


@bp.post("/tokens")
@allow()
@doc("Create a bearer token (the clear token is in this answer only; the database keeps its hash)",
     body=TOKEN_BODY, responses={201: NEW_TOKEN_SCHEMA}, tags=("accounts",))
def create_token() -> tuple[Response, int]:
    body = json_body()
    with write_transaction() as session:
        row, clear = accounts.create_token_from_body(session, body, actor=actor(), known_units=_known_units())
        out = {**accounts.token_to_dict(row), "token": clear}
    return jsonify(out), 201


@bp.get("/tokens")
@allow()
@doc("Every bearer token, newest first (never the token or its hash)",
     responses={200: {"type": "array", "items": TOKEN_SCHEMA}}, tags=("accounts",))
def list_tokens() -> Response:
    return jsonify([accounts.token_to_dict(t) for t in accounts.list_tokens(db_session())])


@bp.post("/tokens/<int:token_id>/revoke")
@allow()
@doc("Revoke a token (at once in this process, within seconds in the others, also while the database is "
     "away later); revoking twice is harmless",
     responses={200: TOKEN_SCHEMA}, tags=("accounts",))
def revoke_token(token_id: int) -> Response:
    with write_transaction() as session:
        row = accounts.revoke_token(session, token_id, actor=actor(), request_id=g.get("request_id"))
        token_hash = row.token_hash
        out = accounts.token_to_dict(row)
    TOKEN_CACHE.drop(f"token:{token_hash}")
    service().revocations.add("token", token_hash)
    return jsonify(out)


# ------------------------------------------------------------------ users


@bp.post("/users")
@allow()
@doc("Create a page user (argon2id password hash)", body=USER_BODY, responses={201: USER_SCHEMA},
     tags=("accounts",))
def create_user() -> tuple[Response, int]:
    body = json_body()
    with write_transaction() as session:
        user = accounts.create_user_from_body(session, body, actor=actor(), known_units=_known_units())
        out = accounts.user_to_dict(user)
    return jsonify(out), 201


@bp.patch("/users/<int:user_id>")
@allow()
@doc("Change a page user's role, unit or disabled flag; any change ends the user's login sessions at once",
     body=USER_PATCH_BODY, responses={200: USER_SCHEMA}, tags=("accounts",))
def update_user(user_id: int) -> Response:
    body = json_body()
    with write_transaction() as session:
        user, ended = accounts.update_user_from_body(session, user_id, body, actor=actor(),
                                                     known_units=_known_units())
        out = accounts.user_to_dict(user)
    for key_hash in ended:
        TOKEN_CACHE.drop(f"session:{key_hash}")
        service().revocations.add("session", key_hash)
    return jsonify(out)


@bp.get("/users")
@allow()
@doc("Every page user (never the password hash)", responses={200: {"type": "array", "items": USER_SCHEMA}},
     tags=("accounts",))
def list_users() -> Response:
    return jsonify([accounts.user_to_dict(u) for u in accounts.list_users(db_session())])


# ------------------------------------------------------------------ officer links


def _link_answer(body: Any) -> tuple[dict[str, Any], int | None]:
    """The locate answer to send and the incident it belongs to (if any)."""
    if isinstance(body, dict) and "incident_id" in body:
        incident_id = body["incident_id"]
        if isinstance(incident_id, bool) or not isinstance(incident_id, int):
            raise InvalidInput("'incident_id' must be an integer",
                               errors=[{"pointer": "/incident_id", "detail": "not an integer"}])
        principal = require_principal()
        scope = None if principal.role == "admin" else principal.unit_code
        incident = incident_service.get_incident(db_session(), incident_id, scope=scope)
        return dict(incident.location or {}), incident.id
    return to_builtins(locate_location(body, index(), lang=request_lang(), places=places())), None


@bp.post("/officer-links")
@allow("dispatcher")
@doc("Make a signed, expiring link to the officer page for a location or an incident",
     body=LINK_BODY, responses={201: LINK_SCHEMA}, tags=("officer-links",))
def create_officer_link() -> tuple[Response, int]:
    answer, incident_id = _link_answer(json_body())
    settings = service().settings
    with write_transaction() as session:
        token, expires_at = officer_links.create_link(
            session, answer, secret=settings.secret_key, ttl_s=settings.officer_link_ttl_s, actor=actor(),
            incident_id=incident_id, request_id=g.get("request_id"))
    jti = officer_links.read_link(token, secret=settings.secret_key, ttl_s=settings.officer_link_ttl_s,
                                  session=None)["jti"]
    return jsonify({"url": f"/p/{token}", "jti": jti, "expires_at": expires_at.isoformat(),
                    "incident_id": incident_id}), 201


@bp.post("/officer-links/<jti>/revoke")
@allow("dispatcher")
@doc("Revoke an officer link: its page answers 410 from now on", tags=("officer-links",))
def revoke_officer_link(jti: str) -> Response:
    principal = require_principal()
    scope = None if principal.role == "admin" else principal.unit_code
    with write_transaction() as session:
        officer_links.revoke_link(session, jti[:64], actor=actor(), scope=scope, request_id=g.get("request_id"))
    service().revocations.add("link", jti[:64])
    return jsonify({"jti": jti, "revoked": True})
