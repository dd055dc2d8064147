"""Officer links: signed, expiring, revocable links to one corrected point.

The token itself carries the point (so the officer page still opens when the database is
away) and a ``jti`` recorded in ``officer_links`` (so a link can be revoked). Signed with
the service secret (HMAC-SHA256 via itsdangerous); every replica shares the secret.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from geo_service.errors import Forbidden, Gone, NotFound
from geo_service.services.incidents import code_in_scope, incident_in_scope
from geo_service.storage import credentials, repo
from geo_service.storage.models import Incident, OfficerLink
from geo_service.storage.types import utcnow

SALT = "geo_service.officer-link.v1"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def link_payload(answer: dict[str, Any]) -> dict[str, Any]:
    """The part of a locate answer an officer needs (kept small: it travels in the URL)."""
    point = answer.get("point") or {}
    original = answer.get("original")
    juris = answer.get("jurisdiction") or {}
    return {
        "lat": point.get("lat"),
        "lon": point.get("lon"),
        "o": [original["lat"], original["lon"]] if original and original != point else None,
        "u": answer.get("uncertainty_m"),
        # Codes with their figures (e.g. the precision in metres); the page words them in the
        # officer's language.
        "f": [[f["code"], f.get("params") or {}] if isinstance(f, dict) else [f, {}]
              for f in answer.get("flags", [])][:8],
        "j": {lvl: juris[lvl]["code"] for lvl in ("polda", "polres", "polsek") if juris.get(lvl)},
        "m": answer.get("match"),
        "s": answer.get("status"),
    }


def create_link(session: Session, answer: dict[str, Any], *, secret: str, ttl_s: int, actor: str,
                incident_id: int | None = None, request_id: str | None = None) -> tuple[str, Any]:
    """Record and sign a link; returns (token, expires_at)."""
    if not (answer.get("point") or {}).get("lat") and (answer.get("point") or {}).get("lat") != 0:
        from geo_service.errors import InvalidInput

        raise InvalidInput("there is no usable point to send to an officer", code="NO_POINT")
    jti = secrets.token_urlsafe(12)
    expires_at = utcnow() + timedelta(seconds=ttl_s)
    payload = link_payload(answer)
    session.add(OfficerLink(jti=jti, created_by=actor, expires_at=expires_at, incident_id=incident_id,
                            payload=payload))
    repo.audit(session, actor=actor, action="officer_link.create", target_type="officer_link", target_id=jti,
               detail={"incident_id": incident_id, "expires_at": expires_at.isoformat()}, request_id=request_id)
    if incident_id is not None:  # the first link sent for an incident is its "dispatched" milestone
        from geo_service.services.milestones import record_dispatch

        record_dispatch(session, incident_id, actor=actor, now=utcnow())
    token = _serializer(secret).dumps({"jti": jti, "exp": int(expires_at.timestamp()), "p": payload})
    return token, expires_at


def read_link(token: str, *, secret: str, ttl_s: int, session: Session | None) -> dict[str, Any]:
    """Verify a token; 403 when tampered, 410 when expired or revoked. Returns the payload."""
    if len(token) > 4096:
        raise Forbidden("this officer link is not valid", code="LINK_INVALID")
    ser = _serializer(secret)
    try:
        data = ser.loads(token, max_age=ttl_s)
    except SignatureExpired:
        raise Gone("this officer link has expired; ask the dispatcher for a new one", code="LINK_EXPIRED") from None
    except BadSignature:
        raise Forbidden("this officer link is not valid (changed or damaged)", code="LINK_INVALID") from None
    if int(data.get("exp", 0)) < int(utcnow().timestamp()):
        raise Gone("this officer link has expired; ask the dispatcher for a new one", code="LINK_EXPIRED")
    if session is not None:
        try:
            row = credentials.find_officer_link(session, data["jti"])
        except SQLAlchemyError:
            row = None  # database away: the signature and expiry still protect the link
        else:
            if row is None:
                raise Forbidden("this officer link is not valid", code="LINK_INVALID")
            if row.revoked_at is not None:
                raise Gone("this officer link was revoked", code="LINK_REVOKED")
    return {"jti": data["jti"], "expires_at": data["exp"], **data["p"]}


def link_in_scope(row: OfficerLink, scope: str | None, actor: str, session: Session) -> bool:
    """True when a principal scoped to ``scope`` may manage the link: it made it, or the link's
    point or incident lies within its unit (``scope=None`` covers everything)."""
    if scope is None or row.created_by == actor:
        return True
    codes = ((row.payload or {}).get("j") or {}).values()
    if any(isinstance(c, str) and code_in_scope(c, scope) for c in codes):
        return True
    if row.incident_id is not None:
        incident = session.get(Incident, row.incident_id)
        return incident is not None and incident_in_scope(incident, scope)
    return False


def revoke_link(session: Session, jti: str, *, actor: str, scope: str | None = None,
                request_id: str | None = None) -> None:
    """Revoke a link by its id (audited); 403 ``OUT_OF_SCOPE`` for another unit's link."""
    row = credentials.find_officer_link(session, jti)
    if row is None:
        raise NotFound(f"officer link {jti!r} does not exist")
    if not link_in_scope(row, scope, actor, session):
        raise Forbidden(f"officer link {jti!r} belongs to a unit outside your unit {scope!r}", code="OUT_OF_SCOPE")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    repo.audit(session, actor=actor, action="officer_link.revoke", target_type="officer_link", target_id=jti,
               request_id=request_id)
