"""Location requests (issue 15): ask a caller's smartphone for its position through a one-time link.

Like AML, but for any smartphone and with the caller's consent. A dispatcher makes a request;
the service answers a short link ``/l/<token>``, a ready SMS/WhatsApp text and a QR code. The
caller's page asks the browser for its position and posts it back once.

The token is ``link_id`` (12 random URL-safe characters, 72 bits) followed by the first 16
characters of ``base64url(HMAC-SHA256(secret, SALT + link_id))`` (96 bits): short enough for an
SMS, unguessable, and a changed character is refused before any database read. Only ``link_id``
is stored, so the table alone cannot forge a link. Expiry and single use live in the row.

States: ``waiting`` -> ``received`` (the first accepted answer closes the request; the same
answer sent again is answered the same, idempotently; a different one is refused);
``denied`` (the caller refused the browser's permission: recorded, and a pin or a typed place
may still follow); ``expired`` is computed: not received before ``expires_at``.

Fix checks, in one place: a fix older than ``STALE_FIX_S`` when it reaches us is flagged
``LOCATION_FIX_STALE``; one with an accuracy radius above ``INACCURATE_FIX_M`` is flagged
``LOCATION_FIX_INACCURATE``. Coordinates are (lon, lat) inside, as everywhere.

A typed place (``source: "text"``) goes through the gazetteer, as ``POST /api/v1/locate`` with a
place name (format ``place``, status ``approximate``, point and radius). When the request names an
incident, a located answer is written into it by :func:`services.incidents.apply_caller_location`
(event, audit, version check; a location a dispatcher set after the request is kept, and the
answer becomes a note).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from msgspec import Meta
from sqlalchemy.orm import Session

from geo_service.errors import BadRequest, Conflict, GeoServiceError, Gone, NotFound
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.messages import flag_message
from geo_service.services import incidents as incident_service
from geo_service.services.answers import to_builtins
from geo_service.services.api_types import Body, decode, one_of
from geo_service.services.locate import locate_location
from geo_service.storage import location_requests as queries
from geo_service.storage import repo
from geo_service.storage.models import LocationRequest
from geo_service.storage.types import utcnow

if TYPE_CHECKING:
    from geo_service.services.places import PlaceService

SALT = b"geo_service.location-request.v1:"
LINK_ID_CHARS = 12
MAC_CHARS = 16
TOKEN_CHARS = LINK_ID_CHARS + MAC_CHARS
#: Letters and digits a caller cannot confuse when the dispatcher reads them out (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LANGS = ("id", "en")
SOURCES = ("gps", "pin", "text")
STALE_FIX_S = 120
INACCURATE_FIX_M = 500.0
MAX_ACCURACY_M = 1_000_000.0
MAX_TEXT_CHARS = 300
#: Rate limits (count, window in seconds): requests made per user, answers posted per link.
CREATE_LIMIT = (12, 600)
ANSWER_LIMIT = (20, 600)
OPEN_LIMIT = (60, 60)

SMS_TEXT = {
    "id": ("POLRI 110: agar polisi dapat menemukan Anda, buka {url} lalu izinkan akses lokasi. "
           "Kode {code}. Berlaku {minutes} menit."),
    "en": ("POLRI 110: so that the police can find you, open {url} and allow location access. "
           "Code {code}. Valid for {minutes} minutes."),
}


# ------------------------------------------------------------------ tokens


def _mac(secret: str, link_id: str) -> str:
    digest = hmac.new(secret.encode(), SALT + link_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def make_token(secret: str, link_id: str) -> str:
    """The link token of ``link_id``: the id and its truncated HMAC."""
    return link_id + _mac(secret, link_id)


def read_token(secret: str, token: str) -> str:
    """The ``link_id`` of a genuine token; 404 ``LOCATION_REQUEST_INVALID`` when changed or made up."""
    if len(token) != TOKEN_CHARS or not token.isascii():
        raise NotFound("this location link is not valid", code="LOCATION_REQUEST_INVALID")
    link_id, mac = token[:LINK_ID_CHARS], token[LINK_ID_CHARS:]
    if not hmac.compare_digest(mac, _mac(secret, link_id)):
        raise NotFound("this location link is not valid", code="LOCATION_REQUEST_INVALID")
    return link_id


def _short_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def qr_svg_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG ``data:`` URI (made here; no external request)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def sms_text(lang: str, url: str, short_code: str, ttl_s: int) -> str:
    """The SMS/WhatsApp text the dispatcher sends (Bahasa Indonesia unless ``lang`` is ``en``)."""
    template = SMS_TEXT.get(lang, SMS_TEXT["id"])
    return template.format(url=url, code=short_code, minutes=max(1, round(ttl_s / 60)))


def _mask_phone(phone: str | None) -> str | None:
    return None if not phone else "*" * max(0, len(phone) - 3) + phone[-3:]


# ------------------------------------------------------------------ create


def parse_create_body(body: Any) -> dict[str, Any]:
    """Check ``{"incident_id"?, "phone"?, "lang"?}``; 400 with pointers when malformed."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object", errors=[{"pointer": "/", "detail": "not an object"}])
    errors: list[dict[str, str]] = []
    incident_id = body.get("incident_id")
    if incident_id is not None and (isinstance(incident_id, bool) or not isinstance(incident_id, int)
                                    or not 0 < incident_id < 2**31):
        errors.append({"pointer": "/incident_id", "detail": "must be an incident id (a positive integer)"})
    phone = body.get("phone")
    if phone is not None:
        cleaned = "".join(ch for ch in phone if ch not in " -().") if isinstance(phone, str) else ""
        if not (cleaned.lstrip("+").isdigit() and cleaned.isascii() and 6 <= len(cleaned) <= 20):
            errors.append({"pointer": "/phone", "detail": "must be a phone number such as +62 812 3456 7890"})
        phone = cleaned
    lang = body.get("lang", "id")
    if lang not in LANGS:
        errors.append({"pointer": "/lang", "detail": "must be 'id' or 'en'"})
    if errors:
        raise BadRequest("the location request body is malformed", errors=errors)
    return {"incident_id": incident_id, "phone": phone or None, "lang": lang}


def create_request(session: Session, body: Any, *, secret: str, ttl_s: int, actor: str, base_url: str,
                   scope: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Record a request (audited) and return its link, short code, SMS text and QR code."""
    fields = parse_create_body(body)
    if fields["incident_id"] is not None:
        incident_service.get_incident(session, fields["incident_id"], scope=scope)  # 404/403 when not visible
    row = LocationRequest(public_id=secrets.token_urlsafe(9), link_id=secrets.token_urlsafe(9)[:LINK_ID_CHARS],
                          short_code=_short_code(), status="waiting", lang=fields["lang"], phone=fields["phone"],
                          incident_id=fields["incident_id"], created_by=actor,
                          expires_at=utcnow() + timedelta(seconds=ttl_s))
    session.add(row)
    repo.audit(session, actor=actor, action="location_request.create", target_type="location_request",
               target_id=row.public_id, request_id=request_id,
               detail={"incident_id": row.incident_id, "phone": _mask_phone(row.phone), "lang": row.lang,
                       "expires_at": row.expires_at.isoformat()})
    path = f"/l/{make_token(secret, row.link_id)}"
    full_url = base_url.rstrip("/") + path
    return {"id": row.public_id, "url": path, "short_code": row.short_code,
            "expires_at": row.expires_at.isoformat(), "sms_text": sms_text(row.lang, full_url, row.short_code, ttl_s),
            "qr_svg": qr_svg_data_uri(full_url), "incident_id": row.incident_id, "phone": row.phone}


# ------------------------------------------------------------------ the caller's side


def _is_expired(row: LocationRequest, now: datetime) -> bool:
    return row.status != "received" and now >= row.expires_at


def find_by_token(session: Session, token: str, *, secret: str) -> LocationRequest:
    """The request a genuine token names; 404 when the token is not genuine or unknown."""
    row = queries.find_by_link_id(session, read_token(secret, token))
    if row is None:
        raise NotFound("this location link is not valid", code="LOCATION_REQUEST_INVALID")
    return row


def _refuse_closed(row: LocationRequest, now: datetime) -> None:
    if row.status == "received":
        raise Gone("your location has already been sent; thank you", code="LOCATION_REQUEST_USED")
    if _is_expired(row, now):
        raise Gone("this location link has expired; call 110 again or ask for a new link",
                   code="LOCATION_REQUEST_EXPIRED")


def open_for_caller(session: Session, token: str, *, secret: str, user_agent: str = "",
                    request_id: str | None = None) -> LocationRequest:
    """The caller opens the link: 404/410 when it cannot be used; the first opening is recorded."""
    row = find_by_token(session, token, secret=secret)
    _refuse_closed(row, utcnow())
    if row.opened_at is None:
        row.opened_at = utcnow()
        repo.audit(session, actor="caller", action="location_request.open", target_type="location_request",
                   target_id=row.public_id, detail={"user_agent": user_agent[:200]}, request_id=request_id)
    return row


class CallerAnswer(Body):
    """What the caller's page posts: a position (gps or pin), a typed place (text), or ``{"source": "denied"}``;
    decoded once, by type (:func:`~geo_service.services.api_types.decode`)."""

    source: Annotated[str, one_of([*SOURCES, "denied"])]
    lat: Annotated[float, Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, Meta(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, Meta(ge=0, le=MAX_ACCURACY_M)] | None = None
    timestamp: Annotated[float | str, Meta(description="time of the fix: epoch milliseconds or ISO 8601 with "
                                                       "an offset")] | None = None
    text: Annotated[str, Meta(max_length=MAX_TEXT_CHARS)] | None = None


def _fix_time(value: Any, errors: list[dict[str, str]]) -> datetime | None:
    """The fix time: epoch milliseconds (as the Geolocation API gives it) or ISO 8601 with an offset."""
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
        if isinstance(value, str) and len(value) <= 40:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    errors.append({"pointer": "/timestamp", "detail": "must be epoch milliseconds or ISO 8601 with an offset"})
    return None


def parse_answer_body(body: Any) -> dict[str, Any]:
    """Check what the caller's page posts (:class:`CallerAnswer`): types first, then what a type cannot say."""
    data = decode(CallerAnswer, body, title="the answer is malformed")
    if data.source == "denied":
        return {"source": "denied"}
    if data.source not in SOURCES:
        raise BadRequest("source must be gps, pin, text or denied",
                         errors=[{"pointer": "/source", "detail": "unknown source"}])
    errors: list[dict[str, str]] = []
    if data.source == "text":
        if data.text is None or not data.text.strip():
            raise BadRequest("the answer is malformed", errors=[
                {"pointer": "/text", "detail": f"type the village or street (1..{MAX_TEXT_CHARS} characters)"}])
        return {"source": "text", "text": " ".join(data.text.split())}
    if data.lat is None or data.lon is None:
        errors.append({"pointer": "/", "detail": "give both 'lat' and 'lon'"})
    moment = _fix_time(data.timestamp, errors)
    if errors:
        raise BadRequest("the answer is malformed", errors=errors)
    return {"source": data.source, "lat": data.lat, "lon": data.lon, "accuracy_m": data.accuracy_m,
            "timestamp": moment.isoformat() if moment else None}


def fix_flags(accuracy_m: float | None, age_s: float | None) -> list[dict[str, Any]]:
    """Flags of a phone's fix: too old when it reached us, or too imprecise (codes with their figures)."""
    flags: list[dict[str, Any]] = []
    if age_s is not None and age_s > STALE_FIX_S:
        flags.append({"code": "LOCATION_FIX_STALE", "params": {"age_s": round(age_s)}})
    if accuracy_m is not None and accuracy_m > INACCURATE_FIX_M:
        flags.append({"code": "LOCATION_FIX_INACCURATE", "params": {"accuracy_m": round(accuracy_m)}})
    return flags


def _locate_answer(answer: dict[str, Any], index: JurisdictionIndex, now: datetime,
                   places: PlaceService | None = None) -> dict[str, Any] | None:
    """The locate answer of what the caller sent (None for a typed place nothing can read); a typed
    place is looked up in the gazetteer when ``places`` is given, as ``POST /api/v1/locate`` does."""
    if answer["source"] == "text":
        try:
            return to_builtins(locate_location({"text": answer["text"]}, index, places=places))
        except GeoServiceError:
            return None  # neither coordinates nor a known place: the dispatcher reads the text
    body: dict[str, Any] = {"lat": answer["lat"], "lon": answer["lon"]}
    if answer["accuracy_m"] is not None:
        body["uncertainty_m"] = answer["accuracy_m"]
    location = to_builtins(locate_location(body, index))
    age_s = None
    if answer["timestamp"]:
        age_s = max(0.0, (now - datetime.fromisoformat(answer["timestamp"])).total_seconds())
    location["fix"] = {"source": answer["source"], "accuracy_m": answer["accuracy_m"],
                       "timestamp": answer["timestamp"], "age_s_at_receipt": None if age_s is None else round(age_s)}
    for flag in fix_flags(answer["accuracy_m"], age_s):
        location.setdefault("flags", []).append({**flag, "message": flag_message(flag["code"], flag["params"])})
    return location


def _fingerprint(answer: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(answer, sort_keys=True).encode()).hexdigest()


def _caller_reply(row: LocationRequest) -> dict[str, Any]:
    """What the caller's page learns back: only that its answer arrived (and its own accuracy)."""
    accuracy = (row.answer or {}).get("accuracy_m")
    return {"status": row.status, "accuracy_m": None if accuracy is None else round(accuracy)}


def _raw_location(answer: dict[str, Any]) -> dict[str, Any]:
    """What the caller sent, as a location body (an incident's ``raw_location``)."""
    if answer["source"] == "text":
        return {"text": answer["text"]}
    raw = {"lat": answer["lat"], "lon": answer["lon"]}
    if answer.get("accuracy_m") is not None:
        raw["uncertainty_m"] = answer["accuracy_m"]
    return raw


def _write_into_incident(session: Session, row: LocationRequest, answer: dict[str, Any],
                         location: dict[str, Any] | None, index: JurisdictionIndex, now: datetime,
                         request_id: str | None) -> None:
    """A located answer to a request for an incident moves that incident (or becomes its note)."""
    if row.incident_id is None or not location or not isinstance(location.get("point"), Mapping):
        return
    incident_service.apply_caller_location(
        session, row.incident_id, location, index, raw_location=_raw_location(answer), requested_at=row.created_at,
        source=answer["source"], accuracy_m=answer.get("accuracy_m"), request_public_id=row.public_id,
        request_id=request_id, now=now)


def accept_answer(session: Session, token: str, body: Any, *, secret: str, index: JurisdictionIndex,
                  places: PlaceService | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Record the caller's answer: the first accepted one closes the request (audited) and, with
    a located point, moves the request's incident (:func:`_write_into_incident`).

    The same answer again gets the same reply (a phone retrying on a bad network); a different
    answer to a closed request is 409 ``LOCATION_REQUEST_USED``; an expired one 410.
    """
    row = find_by_token(session, token, secret=secret)
    answer = parse_answer_body(body)
    now = utcnow()
    if row.status == "received":
        if row.answer_sha256 == _fingerprint(answer):
            return _caller_reply(row)
        raise Conflict("your location has already been sent; a second answer is not accepted",
                       code="LOCATION_REQUEST_USED")
    _refuse_closed(row, now)
    if answer["source"] == "denied":
        if row.status == "waiting":
            row.status, row.denied_at = "denied", now
            repo.audit(session, actor="caller", action="location_request.denied", target_type="location_request",
                       target_id=row.public_id, request_id=request_id)
        return {"status": row.status, "accuracy_m": None}
    location = _locate_answer(answer, index, now, places)
    if not queries.close_with_answer(session, row, at=now, answer=answer, answer_sha256=_fingerprint(answer),
                                     location=location):
        if row.answer_sha256 == _fingerprint(answer):
            return _caller_reply(row)
        raise Conflict("your location has already been sent; a second answer is not accepted",
                       code="LOCATION_REQUEST_USED")
    repo.audit(session, actor="caller", action="location_request.answer", target_type="location_request",
               target_id=row.public_id, request_id=request_id,
               detail={"source": answer["source"], "accuracy_m": answer.get("accuracy_m"),
                       "flags": [f["code"] for f in (location or {}).get("flags", [])]})
    _write_into_incident(session, row, answer, location, index, now, request_id)
    return _caller_reply(row)


# ------------------------------------------------------------------ the console's side


def get_request(session: Session, public_id: str, *, scope: str | None = None) -> LocationRequest:
    """A request by its public id (404 ``LOCATION_REQUEST_NOT_FOUND``); 403 ``OUT_OF_SCOPE`` when it
    belongs to an incident outside the reader's unit ``scope``."""
    row = queries.find_by_public_id(session, public_id[:24])
    if row is None:
        raise NotFound(f"location request {public_id[:24]!r} does not exist", code="LOCATION_REQUEST_NOT_FOUND")
    if scope is not None and row.incident_id is not None:
        incident_service.get_incident(session, row.incident_id, scope=scope)
    return row


def public_status(row: LocationRequest, now: datetime) -> str:
    """waiting | denied | received | expired."""
    return "expired" if _is_expired(row, now) else row.status


def version(row: LocationRequest, now: datetime) -> str:
    """A short state tag: changes when the request is opened, denied, answered or expires."""
    return f"{public_status(row, now)}.{int(row.opened_at is not None)}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _reword(location: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """The stored answer with its flag messages in the reader's language."""
    if not location:
        return location
    out = dict(location)
    out["flags"] = [{**f, "message": flag_message(f["code"], f.get("params") or {}, lang=lang)}
                    if isinstance(f, dict) and "code" in f else f for f in location.get("flags", [])]
    return out


def request_to_dict(row: LocationRequest, *, lang: str = "id", now: datetime | None = None) -> dict[str, Any]:
    """The API view of a request: status, the locate answer of the caller's position, times."""
    now = now or utcnow()
    answer = row.answer or {}
    return {
        "id": row.public_id, "status": public_status(row, now), "version": version(row, now),
        "location": _reword(row.location, lang), "received_at": _iso(row.received_at),
        "opened_at": _iso(row.opened_at), "denied_at": _iso(row.denied_at), "expires_at": _iso(row.expires_at),
        "created_at": _iso(row.created_at), "created_by": row.created_by, "short_code": row.short_code,
        "incident_id": row.incident_id, "source": answer.get("source"), "text": answer.get("text"),
    }


def wait_for_change(session: Session, public_id: str, *, wait_s: float, since: str | None = None,
                    scope: str | None = None, poll_s: float = 0.5) -> LocationRequest:
    """Long polling: the request as soon as its state differs from ``since`` (default: its state now),
    or when it is answered or expired, or after ``wait_s`` seconds, whichever comes first.

    The transaction is ended between reads, so no connection is held while waiting.
    """
    deadline = time.monotonic() + max(0.0, wait_s)
    row = get_request(session, public_id, scope=scope)
    since = since or version(row, utcnow())
    while True:
        now = utcnow()
        current = version(row, now)
        if current != since or public_status(row, now) in ("received", "expired") or time.monotonic() >= deadline:
            return row
        session.rollback()  # ends the read transaction, returns the connection to the pool
        time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))
        row = get_request(session, public_id)
