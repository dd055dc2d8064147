"""Request-scoped access to the service objects and the database session (flaskr style)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import current_app, g
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from geo_service.geo.index import JurisdictionIndex
    from geo_service.services.places import PlaceService
    from geo_service.web.app import GeoService


#: Where the request id is kept in the WSGI environ, so that the fast lane and Flask (when the lane
#: hands a request over) give one request one id.
REQUEST_ID_KEY = "geo_service.request_id"

#: Where the fast lane leaves the failure of its token/role check when it hands a request to Flask:
#: Flask's check raises it instead of looking the token up a second time. (A client cannot set
#: environ keys without the ``HTTP_`` prefix.)
LANE_AUTH_ERROR_KEY = "geo_service.lane_auth_error"


def request_id_of(environ: dict[str, Any]) -> str:
    """The request's id: its ``X-Request-ID`` when that is printable ASCII (cut to 64), else a new one."""
    rid = environ.get(REQUEST_ID_KEY)
    if rid is None:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        rid = incoming[:64] if incoming and incoming.isascii() and incoming.isprintable() else secrets.token_hex(16)
        environ[REQUEST_ID_KEY] = rid
    return str(rid)


def service() -> GeoService:
    """The GeoService object of the current app."""
    return current_app.extensions["geo_service"]


def db_session() -> Session:
    """The request's session, opened on first use and closed in teardown."""
    if "db_session" not in g:
        g.db_session = service().storage.session()
    return g.db_session


def index() -> JurisdictionIndex:
    """The jurisdiction index to answer from."""
    return service().holder.current()


def places() -> PlaceService:
    """The gazetteer service of this process."""
    return service().places


def actor() -> str:
    """Name of the authenticated principal, for audit records."""
    principal = g.get("principal")
    return principal.name if principal else "anonymous"


@contextmanager
def write_transaction() -> Iterator[Session]:
    """The request's session in one write transaction: committed on success, rolled back on error.

    Reads done earlier in the request (the token lookup) are ended first, so the write
    transaction starts clean.
    """
    session = db_session()
    if session.in_transaction():
        session.commit()
    with session.begin():
        yield session
