"""The Flask application factory (flaskr style): config -> storage -> index -> blueprints -> errors -> CLI."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, g, request

from geo_service.config import Settings, load_settings
from geo_service.services.bootstrap import ensure_bundled
from geo_service.services.places import PlaceService, ensure_places
from geo_service.services.ratelimit import make_rate_limiter
from geo_service.services.registry import IndexHolder
from geo_service.services.revocations import RevocationList
from geo_service.services.short_links import ShortLinkExpander
from geo_service.storage import db
from geo_service.storage.db import Storage
from geo_service.web.context import request_id_of
from geo_service.web.fast_lane import FastLane
from geo_service.web.problem import register_error_handlers
from geo_service.web.security import apply_security_headers

LOGGER = logging.getLogger(__name__)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_app_context

        # The app context, not the request's: the fast lane answers in an app context only.
        record.request_id = getattr(g, "request_id", "-") if has_app_context() else "-"
        return True


def configure_logging(level: str) -> None:
    """Request ids in every log line, on the handlers already there or on one new handler (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if getattr(handler, "_geo_service", False):
            continue
        handler._geo_service = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
        handler.addFilter(RequestIdFilter())
    root.setLevel(level)


class GeoService:
    """What the app carries in ``app.extensions['geo_service']``."""

    def __init__(self, settings: Settings, storage: Storage, holder: IndexHolder) -> None:
        self.settings = settings
        self.storage = storage
        self.holder = holder
        self.places = PlaceService(storage)
        self.rate_limiter = make_rate_limiter(settings.redis_url)
        self.revocations = RevocationList(settings.redis_url)
        # Opens short map links for validate/locate when the setting allows it (tests swap in a routed one).
        self.link_expander: ShortLinkExpander | None = ShortLinkExpander() if settings.expand_short_links else None


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` overrides settings (see :func:`load_settings`)."""
    settings = load_settings(overrides=test_config)
    configure_logging(settings.log_level)
    storage = Storage(settings.database_url, settings.backend)
    db.check_connection(storage.engine, settings.backend)
    if settings.auto_migrate:
        db.upgrade(storage.engine)
    ensure_bundled(storage, settings)
    ensure_places(storage, settings)
    holder = IndexHolder(storage, settings)
    holder.refresh(force=True)

    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="geo_service_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=settings.session_ttl_s,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["geo_service"] = GeoService(settings, storage, holder)

    @app.before_request
    def _before() -> None:
        g.request_id = request_id_of(request.environ)
        g.started = time.perf_counter()
        holder.maybe_refresh()

    @app.after_request
    def _after(resp: Response) -> Response:
        resp.headers.add("X-Request-ID", g.get("request_id", "-"))
        allow = resp.headers.get("Allow")
        if allow:  # Flask's automatic OPTIONS answer lists a set: the same order in every process
            resp.headers["Allow"] = ", ".join(sorted(m.strip() for m in allow.split(",")))
        return apply_security_headers(resp)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    from geo_service.web import (
        accounts_api,
        admin,
        api,
        assets,
        auth,
        basemap,
        compress,
        i18n,
        incident_pages,
        pages,
    )
    from geo_service.web import calls as calls_web
    from geo_service.web import incidents as incidents_web
    from geo_service.web import location_requests as location_requests_web
    from geo_service.web import places as places_web
    from geo_service.web.call_pages import bp as call_pages_bp

    # Inside ProxyFix (installed by auth.init_app): the lane sees the environ Flask would see.
    app.wsgi_app = FastLane(app, app.wsgi_app, api.FAST_ROUTES)  # type: ignore[method-assign]
    auth.init_app(app)
    compress.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(accounts_api.bp)
    app.register_blueprint(incidents_web.bp)
    app.register_blueprint(incident_pages.bp)
    app.register_blueprint(calls_web.bp)
    app.register_blueprint(call_pages_bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(basemap.bp)
    app.register_blueprint(location_requests_web.bp)
    app.register_blueprint(places_web.bp)
    app.register_blueprint(pages.bp)
    register_error_handlers(app)
    return app
