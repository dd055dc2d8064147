"""RFC 9457 problem+json responses and the three error handlers.

One table (the exception classes' ``status``) maps errors to HTTP statuses. Handlers: our
errors, Werkzeug's HTTPException, and anything else (500 with a generic detail; the
traceback is logged with the request id and the session is rolled back).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, redirect, request, url_for
from sqlalchemy.exc import DataError, InternalError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from geo_service.errors import GeoServiceError, ServiceUnavailable
from geo_service.storage.db import is_write_failure
from geo_service.web.common import error_page
from geo_service.web.server import RequestReadTimeout

LOGGER = logging.getLogger(__name__)
PROBLEM_BASE = "https://geo-service.invalid/problems/"
def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": getattr(g, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _wants_html() -> bool:
    if request.path.startswith("/api/") or request.path == "/health":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "application/problem+json", "text/html"])
    return best == "text/html"


def _rollback() -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
            session.close()
        except SQLAlchemyError:
            LOGGER.debug("rollback failed", exc_info=True)


def register_error_handlers(app: Flask) -> None:
    """Install the three handlers."""

    @app.errorhandler(GeoServiceError)
    def _ours(exc: GeoServiceError) -> Any:
        _rollback()
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="geo_service"'
        if _wants_html():
            if exc.status == 401:
                return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
            return error_page(exc.status, exc.title, exc.detail)
        return problem_response(exc.status, exc.title, exc.detail, code=exc.code, errors=exc.errors,
                                extra=exc.extra, headers=headers)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if isinstance(exc.__context__, RequestReadTimeout):  # Werkzeug turns the read error into a 400
            return _slow_client(exc.__context__)
        _rollback()
        status = exc.code or 500
        code = (exc.name or "error").upper().replace(" ", "_")
        detail = exc.description or exc.name
        if status == 413:
            code = "PAYLOAD_TOO_LARGE"
            detail = f"the request body is larger than the limit of {app.config.get('MAX_CONTENT_LENGTH')} bytes"
        if _wants_html():
            return error_page(status, exc.name, detail)
        headers = {}
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            headers["Allow"] = ", ".join(sorted(valid_methods))  # the same in every process (no set order)
        return problem_response(status, exc.name, detail, code=code, headers=headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InternalError)
    def _db_down(exc: OperationalError | InternalError) -> Any:
        if isinstance(exc, InternalError) and not is_write_failure(exc):
            return _anything(exc)
        _rollback()
        LOGGER.warning("database error [%s]: %s", getattr(g, "request_id", "-"), str(exc).splitlines()[0])
        if is_write_failure(exc):
            # The store turned read-only or fails (issue 12): say so; /health reports it too.
            err = ServiceUnavailable(
                "the database storage cannot take writes (read-only or failing); this change was not saved. "
                "Reading, validate and locate still work.", code="STORAGE_READ_ONLY")
        else:
            err = ServiceUnavailable(
                "the database is not reachable; nothing was written. Try again shortly.", code="DATABASE_UNAVAILABLE"
            )
        if _wants_html():
            resp = error_page(err.status, err.title, err.detail)
            resp.headers["Retry-After"] = "5"
            return resp
        return problem_response(err.status, err.title, err.detail, code=err.code, headers={"Retry-After": "5"})

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(exc: Exception) -> Any:
        # A number in the request that the database column cannot hold (an id of 2**40, say):
        # PostgreSQL answers DataError, the SQLite driver OverflowError. The caller's fault, not ours.
        _rollback()
        LOGGER.info("value out of range [%s]: %s", getattr(g, "request_id", "-"), str(exc).splitlines()[0])
        detail = "a number in the request is outside the range the service can store or look up"
        if _wants_html():
            return error_page(400, "Bad Request", detail)
        return problem_response(400, "Bad request", detail, code="VALUE_OUT_OF_RANGE")

    @app.errorhandler(RequestReadTimeout)
    def _slow_client(exc: RequestReadTimeout) -> Any:
        # The view was reading a body that arrives too slowly (issue 12): answer and close.
        _rollback()
        LOGGER.info("request body too slow [%s]: %s", getattr(g, "request_id", "-"), exc.strerror)
        return problem_response(408, "Request Timeout", f"{exc.strerror}: send the whole request at once",
                                code="REQUEST_TIMEOUT", headers={"Connection": "close"})

    @app.errorhandler(Exception)
    def _anything(exc: Exception) -> Any:
        _rollback()
        LOGGER.exception("unhandled error [request %s]", getattr(g, "request_id", "-"))
        detail = "an unexpected error occurred; it has been logged with the request id"
        if _wants_html():
            return error_page(500, "Internal Server Error", detail)
        return problem_response(500, "Internal Server Error", detail, code="INTERNAL_ERROR")
