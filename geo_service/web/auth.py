"""Authentication (bearer tokens, page login sessions) and per-endpoint role rules.

Every view declares who may call it with :func:`allow` (or :func:`public`). A view without a
rule is refused for everyone (fail closed) and the route-table test fails, so a new endpoint
cannot ship without a rule. ``admin`` may call everything.

Page logins are Flask-Login sessions kept on the server (``services.accounts``): the signed
cookie holds only a random key; each request reads its row and user, so logout, disabling a
user and a role change take effect on the next request (issue 12, item 5).

Token checks are cached in the process for ``TOKEN_CACHE_S`` seconds; while the database is
away a credential verified before the outage stays good for up to ``TOKEN_CACHE_DEGRADED_S``,
unless the revocation list (``services.revocations``: this process, the database read every
few seconds, Redis when configured) knows it was revoked (item 7). A credential that was never
verified cannot be checked then and gets 503.

API writes made with a page login (no bearer token) need the CSRF header and a same-origin
``Origin`` (``web.security``, item 4).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, g, request
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from geo_service.errors import Forbidden, Unauthorized
from geo_service.services import accounts
from geo_service.storage import repo
from geo_service.storage.types import utcnow
from geo_service.web import security
from geo_service.web.context import LANE_AUTH_ERROR_KEY, db_session, service

F = TypeVar("F", bound=Callable[..., Any])
ROLES = ("admin", "supervisor", "dispatcher", "officer")
TOKEN_CACHE_S = 10.0
TOKEN_CACHE_DEGRADED_S = 3600.0


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    name: str
    role: str
    unit_code: str | None
    via: str  # "token" | "session"
    token_id: int | None = None


def allow(*roles: str) -> Callable[[F], F]:
    """Declare the roles that may call a view (admin always may)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def deco(fn: F) -> F:
        fn._access = frozenset(roles) | {"admin"}  # type: ignore[attr-defined]
        return fn

    return deco


def public(fn: F) -> F:
    """Declare a view that needs no authentication."""
    fn._access = None  # type: ignore[attr-defined]
    return fn


def access_rule(view: Callable[..., Any]) -> frozenset[str] | None | bool:
    """The rule of a view: a role set, None for public, False when it has none."""
    return getattr(view, "_access", False)


class _TokenCache:
    """Verified credentials (and ones found unknown or revoked) for a short while, by hash.

    The two kinds are kept and bounded apart: made-up tokens (each an "unknown" entry) push out only
    other unknown entries, never the verified ones a dispatcher relies on during a database outage.
    At the bound the oldest entry of that kind goes (insertion order)."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, Principal | None, Any]] = {}
        self._unknown: dict[str, tuple[float, Principal | None, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str, max_age: float) -> tuple[bool, Principal | None, Any]:
        with self._lock:
            hit = self._known.get(token_hash) or self._unknown.get(token_hash)
        if hit and time.monotonic() - hit[0] <= max_age:
            return True, hit[1], hit[2]
        return False, None, None

    def put(self, token_hash: str, principal: Principal | None, expires_at: Any) -> None:
        kind, other = (self._known, self._unknown) if principal is not None else (self._unknown, self._known)
        with self._lock:
            other.pop(token_hash, None)
            kind.pop(token_hash, None)  # re-inserted last: the newest entry
            while len(kind) >= self.MAX_ENTRIES:
                del kind[next(iter(kind))]
            kind[token_hash] = (time.monotonic(), principal, expires_at)

    def drop(self, token_hash: str | None = None) -> None:
        with self._lock:
            if token_hash is None:
                self._known.clear()
                self._unknown.clear()
            else:
                self._known.pop(token_hash, None)
                self._unknown.pop(token_hash, None)


TOKEN_CACHE = _TokenCache()


def _verified(kind: str, key_hash: str, load: Callable[[], tuple[Principal | None, Any]],
              fresh_s: float) -> tuple[Principal | None, Any]:
    """(principal, expires_at) of a credential: from the cache, the database, or (database away)
    the answer verified before the outage, unless the revocation list knows better."""
    svc = service()
    if svc.revocations.is_revoked(kind, key_hash):
        return None, None  # known without asking anyone (also while the database is away)
    cache_key = f"{kind}:{key_hash}"
    fresh, principal, expires_at = TOKEN_CACHE.get(cache_key, fresh_s)
    degraded = False
    if not fresh and svc.holder.degraded:
        # Known outage: do not wait for a database that is away; a recently verified credential stays good.
        fresh, principal, expires_at = TOKEN_CACHE.get(cache_key, TOKEN_CACHE_DEGRADED_S)
        degraded = fresh
    if not fresh:
        try:
            principal, expires_at = load()
        except SQLAlchemyError:
            ok, principal, expires_at = TOKEN_CACHE.get(cache_key, TOKEN_CACHE_DEGRADED_S)
            if not ok:
                raise  # never verified: it cannot be checked now (503)
            degraded = True
        else:
            TOKEN_CACHE.put(cache_key, principal, expires_at)
    if principal is not None and degraded and svc.revocations.is_revoked(kind, key_hash, ask_redis=True):
        return None, None
    return principal, expires_at


def _principal_from_token(clear: str) -> Principal:
    def load() -> tuple[Principal | None, Any]:
        row = repo.find_token(db_session(), clear)
        if row is None or row.revoked_at is not None:
            return None, None
        return (Principal(name=f"token:{row.name}", role=row.role, unit_code=row.unit_code, via="token",
                          token_id=row.id), row.expires_at)

    principal, expires_at = _verified("token", repo.hash_token(clear), load, TOKEN_CACHE_S)
    if principal is None:
        raise Unauthorized("the bearer token is unknown or revoked", code="TOKEN_INVALID")
    if expires_at is not None and expires_at <= utcnow():
        raise Unauthorized("the bearer token has expired", code="TOKEN_EXPIRED")
    return principal


class SessionUser(UserMixin):
    """A page login as Flask-Login sees it: its id is the session key, not the user's id, so ending
    the session (logout) ends this login only (Flask-Login's "alternative tokens")."""

    def __init__(self, key: str, principal: Principal) -> None:
        self.key = key
        self.principal = principal

    def get_id(self) -> str:
        return self.key


def principal_of_user(user: Any) -> Principal:
    """The principal of a page user (role and unit as stored now)."""
    return Principal(name=f"user:{user.username}", role=user.role, unit_code=user.unit_code, via="session")


def _load_session_user(key: str) -> SessionUser | None:
    """Flask-Login's user loader: the live login session of this cookie key (read on every request)."""
    if not isinstance(key, str) or not key or len(key) > 100:
        return None

    def load() -> tuple[Principal | None, Any]:
        found = accounts.find_login_session(db_session(), key)
        if found is None:
            return None, None
        login, user = found
        return principal_of_user(user), login.expires_at

    principal, expires_at = _verified("session", repo.hash_token(key), load, 0.0)
    if principal is None or (expires_at is not None and expires_at <= utcnow()):
        return None
    return SessionUser(key, principal)


def principal_from_bearer(header: str) -> Principal:
    """The principal of an ``Authorization`` header (``Bearer <token>``), or 401 TOKEN_INVALID/EXPIRED."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", code="TOKEN_INVALID")
    return _principal_from_token(value.strip())


def current_principal() -> Principal | None:
    """Authenticate the request from its bearer token or its page login."""
    header = request.headers.get("Authorization", "")
    if header:
        return principal_from_bearer(header)
    if current_user.is_authenticated:
        return current_user.principal  # type: ignore[no-any-return]
    return None


def init_app(app: Flask) -> None:
    """Login sessions, CSRF, trusted proxies; check every request against its view's rule (after its
    size against the body limit)."""
    svc = app.extensions["geo_service"]
    security.init_app(app, trusted_proxies=svc.settings.trusted_proxies)
    login_manager = LoginManager()
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_session_user)
    login_manager.init_app(app)
    svc.revocations.maybe_sync(svc.storage.session, force=True)

    @app.before_request
    def _authorize() -> None:
        # Refuse an oversized body before any work, also on views that never read their body.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        if request.endpoint is None:
            return  # 404/405: let routing answer
        lane_error = request.environ.pop(LANE_AUTH_ERROR_KEY, None)
        if lane_error is not None:
            # The fast lane already ran this check on this request and it failed: answer that
            # failure, not a second look-up (which would double a database wait during an outage).
            raise lane_error
        sync_revocations(svc)
        view = app.view_functions.get(request.endpoint)
        rule = access_rule(view) if view else False
        g.principal = None
        if rule is None:
            # Public views may still know who is calling (pages show a logout link).
            try:
                g.principal = current_principal()
            except (Unauthorized, SQLAlchemyError):
                g.principal = None
            return
        if rule is False:
            raise Forbidden("this endpoint has no access rule", code="NO_ACCESS_RULE")
        principal = current_principal()
        if principal is None:
            raise Unauthorized("authentication required: send a bearer token or log in", code="AUTH_REQUIRED")
        if principal.via == "session" and request.method not in security.SAFE_METHODS \
                and request.path.startswith("/api/"):
            security.check_same_origin()
            security.check_csrf()
        check_role(principal, rule)
        g.principal = principal


def sync_revocations(svc: Any) -> None:
    """Read the revocation list when due (not while the database is known to be away)."""
    if not svc.holder.degraded:
        svc.revocations.maybe_sync(svc.storage.session)


def check_role(principal: Principal, rule: frozenset[str] | None | bool) -> None:
    """403 ROLE_FORBIDDEN unless the view's role rule admits the principal's role."""
    if not isinstance(rule, frozenset) or principal.role not in rule:
        raise Forbidden(f"role {principal.role!r} may not use this endpoint", code="ROLE_FORBIDDEN")


def require_principal() -> Principal:
    """The authenticated principal (views with a role rule always have one)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("authentication required", code="AUTH_REQUIRED")
    return principal
