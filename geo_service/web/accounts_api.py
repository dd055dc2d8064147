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
from geo_service.services.account_types import (
    NewToken,
    OfficerLink,
    OfficerLinkRevoked,
    Token,
    User,
)
from geo_service.services.answers import to_builtins
from geo_service.services.locate import locate_location
from geo_service.web.auth import TOKEN_CACHE, allow, require_principal
from geo_service.web.common import json_body, request_lang
from geo_service.web.context import actor, db_session, index, places, service, write_transaction
from geo_service.web.openapi import answers, body, doc, problems

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")

def _known_units() -> set[str] | None:
    idx = service().holder.loaded  # a fresh install may have none yet
    return set(idx.units) if idx is not None else None


# ------------------------------------------------------------------ tokens


@bp.post("/tokens")
@allow()
@doc("Create a bearer token (the clear token is in this answer only; the database keeps its hash)",
     tags=("accounts",))
@body(accounts.TokenCreate)
@answers(201, NewToken)
@problems(422)
def create_token() -> tuple[Response, int]:
    body = json_body()
    with write_transaction() as session:
        row, clear = accounts.create_token_from_body(session, body, actor=actor(), known_units=_known_units())
        out = {**accounts.token_to_dict(row), "token": clear}
    return jsonify(out), 201


@bp.get("/tokens")
@allow()
@doc("Every bearer token, newest first (never the token or its hash)", tags=("accounts",))
@answers(200, list[Token])
def list_tokens() -> Response:
    return jsonify([accounts.token_to_dict(t) for t in accounts.list_tokens(db_session())])


@bp.post("/tokens/<int:token_id>/revoke")
@allow()
@doc("Revoke a token (at once in this process, within seconds in the others, also while the database is "
     "away later); revoking twice is harmless", tags=("accounts",))
@answers(200, Token)
@problems(404)
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
@doc("Create a page user (argon2id password hash)", tags=("accounts",))
@body(accounts.UserCreate)
@answers(201, User)
@problems(409, 422)
def create_user() -> tuple[Response, int]:
    body = json_body()
    with write_transaction() as session:
        user = accounts.create_user_from_body(session, body, actor=actor(), known_units=_known_units())
        out = accounts.user_to_dict(user)
    return jsonify(out), 201


@bp.patch("/users/<int:user_id>")
@allow()
@doc("Change a page user's role, unit or disabled flag; any change ends the user's login sessions at once",
     tags=("accounts",))
@body(accounts.UserPatch)
@answers(200, User)
@problems(404, 422)
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
@doc("Every page user (never the password hash)", tags=("accounts",))
@answers(200, list[User])
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
     tags=("officer-links",))
@body({"anyOf": [{"$ref": "#/components/schemas/LocationBody"},
                 {"type": "object", "required": ["incident_id"], "properties": {"incident_id": {"type": "integer"}},
                  "description": "an incident whose stored location is sent"}],
       "description": "a location (as for /api/v1/locate) or an incident whose stored location is sent"})
@answers(201, OfficerLink)
@problems(403, 404, 422)
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
@answers(200, OfficerLinkRevoked)
@problems(404)
def revoke_officer_link(jti: str) -> Response:
    principal = require_principal()
    scope = None if principal.role == "admin" else principal.unit_code
    with write_transaction() as session:
        officer_links.revoke_link(session, jti[:64], actor=actor(), scope=scope, request_id=g.get("request_id"))
    service().revocations.add("link", jti[:64])
    return jsonify({"jti": jti, "revoked": True})
