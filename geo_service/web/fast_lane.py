"""The fast lane: plain bearer-token JSON calls of locate and validate answered without Flask's
request machinery (issue 13).

About 40 % of a locate request in process was Flask itself and our hooks: the request context,
routing, the hook chain, the Response object. :class:`FastLane` wraps the Flask WSGI app and
answers ``POST`` to exactly the paths of ``api.FAST_ROUTES`` itself when the request is the
common case, doing what the Flask path does for it, in the same order and with the same code:

1. request id (``context.request_id_of``: the incoming ``X-Request-ID`` when printable ASCII,
   cut to 64 characters, else a new one), the index refresh (``holder.maybe_refresh``);
2. the body-size limit, the revocation sync and the bearer token with its role rule
   (``auth.principal_from_bearer``, ``auth.check_role``: cache, revocations, expiry);
3. the body decoded once into the typed query (``common.decode_typed``), the answer built by the
   view's own function (``api.locate_answer`` / ``api.validate_answer``) in the language
   ``common.lang_of`` chooses, encoded with ``answers.to_json``;
4. the response headers of the Flask path in its order: ``Content-Type``, ``Content-Length``, (gzip,
   by ``compress.gzip_answer``), ``X-Request-ID``, ``security.security_headers``.

It runs in an app context (``current_app``, ``g.request_id`` for log lines, ``g.principal``,
``g.db_session``: closed by the app's teardown when the context is popped). Everything else goes
to Flask unchanged: another method or path (``//``, a trailing slash, ``HEAD``/``OPTIONS``), no
``Authorization`` header, a cookie, another content type, a chunked body or one without a plain
``Content-Length``, a body over the limit; and *any* failure on the way (unknown, expired or revoked
token, wrong role, malformed JSON or body, an error in the answer) hands the request to Flask with
the body already read re-wrapped, so every error answer is Flask's own problem+json. The request id
travels in the environ, so one request has one id in both lanes. No answer depends on the lane
that served it (``tests/web/test_fast_lane.py`` compares them byte for byte).
``GEO_SERVICE_FAST_LANE=false`` sends every request through Flask.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec
from flask import Request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header

from geo_service.errors import GeoServiceError
from geo_service.services.answers import to_json
from geo_service.web.auth import access_rule, check_role, principal_from_bearer, sync_revocations
from geo_service.web.common import decode_typed, lang_of
from geo_service.web.compress import gzip_answer
from geo_service.web.context import LANE_AUTH_ERROR_KEY, REQUEST_ID_KEY, request_id_of
from geo_service.web.security import security_headers

if TYPE_CHECKING:
    from flask import Flask

LOGGER = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON = "application/json"


class FastRoute(NamedTuple):
    """An endpoint the lane answers: its Flask endpoint (for the role rule), body type and answer."""

    endpoint: str
    query_type: type[Any]
    answer: Callable[[Any, str], Any]


class _Handover(Exception):
    """Not the lane's case after all: Flask answers (with this body stream, when one was read)."""

    def __init__(self, stream: Any = None, auth_error: Exception | None = None) -> None:
        super().__init__()
        self.stream = stream
        #: The failure of the token or role check: Flask answers it without checking again.
        self.auth_error = auth_error


class _FailingStream(io.RawIOBase):
    """A body stream that fails as reading the client's body failed (Flask then answers as it would)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        raise self.exc

    def read(self, _size: int | None = -1) -> bytes:
        raise self.exc

    def readline(self, _size: int | None = -1) -> bytes:
        raise self.exc


def _expected(handover: Exception) -> bool:
    """Whether a hand-over is an ordinary case (a refused token, a client error, a slow client)
    rather than a failure of the lane's own code."""
    if not isinstance(handover, _Handover):
        return False
    cause = handover.auth_error or handover.__cause__
    return cause is None or isinstance(cause, (GeoServiceError, HTTPException, SQLAlchemyError, OSError,
                                               msgspec.DecodeError, msgspec.ValidationError))


class FastLane:
    """WSGI middleware around the Flask app: see the module docstring."""

    def __init__(self, app: Flask, inner: WSGIApp, routes: dict[str, FastRoute]) -> None:
        self.app = app
        self.inner = inner
        self.routes = routes
        svc = app.extensions["geo_service"]
        self.svc = svc
        self.enabled = bool(svc.settings.fast_lane)
        #: The security headers of a JSON answer (the settings are fixed for the app's life).
        self.json_security_headers = security_headers(svc.settings.tile_url, None, JSON)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = self.routes.get(environ.get("PATH_INFO", "")) if self.enabled else None
        length = self._plain_call(environ) if route is not None else None
        if route is None or length is None:
            return self.inner(environ, start_response)
        handover: Exception | None = None
        ctx = self.app.app_context()
        ctx.push()
        try:
            status, headers, body = self._answer(environ, route, length, ctx.g)
        except Exception as exc:  # noqa: BLE001 - any failure: Flask answers it, as it always did
            handover = exc
        finally:
            ctx.pop(handover)  # the app's teardown closes the request's database session
        if handover is not None:
            if isinstance(handover, _Handover):
                if handover.stream is not None:
                    environ["wsgi.input"] = handover.stream
                if handover.auth_error is not None:
                    environ[LANE_AUTH_ERROR_KEY] = handover.auth_error
            if not _expected(handover):
                # A failure of the lane's own code would otherwise only show as a slower answer.
                LOGGER.warning("[%s] fast lane handed over after an unexpected error",
                               environ.get(REQUEST_ID_KEY, "-"), exc_info=handover)
            return self.inner(environ, start_response)
        start_response(status, headers)
        return [body]

    def _plain_call(self, environ: dict[str, Any]) -> int | None:
        """The body length of a plain bearer-token JSON POST within the size limit, else None."""
        if environ.get("REQUEST_METHOD") != "POST" or "HTTP_COOKIE" in environ \
                or "HTTP_TRANSFER_ENCODING" in environ or not environ.get("HTTP_AUTHORIZATION"):
            return None
        raw = environ.get("CONTENT_LENGTH", "")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            return None  # (int() of a very long digit string raises; no body is that long)
        length = int(raw)
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and length > limit:
            return None
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type != JSON and parse_options_header(content_type)[0].lower() != JSON:
            return None
        return length

    def _answer(self, environ: dict[str, Any], route: FastRoute, length: int,
                g: Any) -> tuple[str, list[tuple[str, str]], bytes]:
        """What ``before_request``, the view and ``after_request`` do for this call; raises to hand over.
        (``g`` is the pushed context's ``flask.g``, without the proxy.)"""
        svc = self.svc
        g.request_id = rid = request_id_of(environ)
        g.started = time.perf_counter()
        svc.holder.maybe_refresh()
        try:
            sync_revocations(svc)
            principal = principal_from_bearer(environ["HTTP_AUTHORIZATION"])
            check_role(principal, access_rule(self.app.view_functions[route.endpoint]))
        except Exception as exc:  # noqa: BLE001 - 401/403/503: Flask answers this very failure
            raise _Handover(auth_error=exc) from exc
        g.principal = principal
        try:
            data = environ["wsgi.input"].read(length)
        except Exception as exc:  # noqa: BLE001 - a client that stops sending: Flask says so
            raise _Handover(_FailingStream(exc)) from exc
        if len(data) != length:
            raise _Handover(io.BytesIO(data))
        try:
            query = decode_typed(data, route.query_type)
            plain = "QUERY_STRING" not in environ or not environ["QUERY_STRING"]
            lang = "id" if plain and "HTTP_ACCEPT_LANGUAGE" not in environ else lang_of(Request(environ))
            body = to_json(route.answer(query, lang))
        except Exception as exc:  # noqa: BLE001 - malformed body or a failing answer: Flask's problem+json
            raise _Handover(io.BytesIO(data)) from exc
        headers = [("Content-Type", JSON), ("Content-Length", str(len(body)))]
        packed = gzip_answer(body, JSON, environ.get("HTTP_ACCEPT_ENCODING"))
        if packed is not None:
            body = packed
            headers = [("Content-Type", JSON), ("Content-Length", str(len(body))),
                       ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        headers.append(("X-Request-ID", rid))
        headers.extend(self.json_security_headers)
        return "200 OK", headers, body
