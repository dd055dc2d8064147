"""Authentication (bearer tokens, page sessions) and per-endpoint role rules.

Every view declares who may call it with :func:`allow` (or :func:`public`). A view without a
rule is refused for everyone (fail closed) and the route-table test fails, so a new endpoint
cannot ship without a rule. ``admin`` may call everything.

Token checks are cached in the process for ``TOKEN_CACHE_S`` seconds, so that validate and
locate keep answering when the database is away (issue 7); a revocation made through this
process takes effect at once, one made elsewhere within ``TOKEN_CACHE_S``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, g, request, session
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from geo_service.errors import Forbidden, Unauthorized
from geo_service.storage import repo
from geo_service.storage.types import utcnow

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
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Principal | None, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str, max_age: float) -> tuple[bool, Principal | None, Any]:
        with self._lock:
            hit = self._data.get(token_hash)
        if hit and time.monotonic() - hit[0] <= max_age:
            return True, hit[1], hit[2]
        return False, None, None

    def put(self, token_hash: str, principal: Principal | None, expires_at: Any) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                self._data.clear()
            self._data[token_hash] = (time.monotonic(), principal, expires_at)

    def drop(self, token_hash: str | None = None) -> None:
        with self._lock:
            if token_hash is None:
                self._data.clear()
            else:
                self._data.pop(token_hash, None)


TOKEN_CACHE = _TokenCache()


def _principal_from_token(clear: str) -> Principal:
    from geo_service.web.context import db_session, service

    token_hash = repo.hash_token(clear)
    fresh, principal, expires_at = TOKEN_CACHE.get(token_hash, TOKEN_CACHE_S)
    if not fresh and service().holder.degraded:
        # Known outage: do not wait for a database that is away; a recently verified token stays good.
        fresh, principal, expires_at = TOKEN_CACHE.get(token_hash, TOKEN_CACHE_DEGRADED_S)
    if not fresh:
        try:
            row = repo.find_token(db_session(), clear)
        except SQLAlchemyError:
            # Database away: a token verified recently stays good for a while (degraded mode).
            ok, principal, expires_at = TOKEN_CACHE.get(token_hash, TOKEN_CACHE_DEGRADED_S)
            if not ok:
                raise
        else:
            if row is None or row.revoked_at is not None:
                principal, expires_at = None, None
            else:
                principal = Principal(name=f"token:{row.name}", role=row.role, unit_code=row.unit_code,
                                      via="token", token_id=row.id)
                expires_at = row.expires_at
            TOKEN_CACHE.put(token_hash, principal, expires_at)
    if principal is None:
        raise Unauthorized("the bearer token is unknown or revoked", code="TOKEN_INVALID")
    if expires_at is not None and expires_at <= utcnow():
        raise Unauthorized("the bearer token has expired", code="TOKEN_EXPIRED")
    return principal


def current_principal() -> Principal | None:
    """Authenticate the request from its bearer token or its page session."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'", code="TOKEN_INVALID")
        return _principal_from_token(value.strip())
    user = session.get("user")
    if user:
        return Principal(name=f"user:{user['username']}", role=user["role"], unit_code=user.get("unit_code"),
                         via="session")
    return None


def init_app(app: Flask) -> None:
    """Check every request against its view's rule (after its size against the body limit)."""

    @app.before_request
    def _authorize() -> None:
        # Refuse an oversized body before any work, also on views that never read their body.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        if request.endpoint is None:
            return  # 404/405: let routing answer
        view = app.view_functions.get(request.endpoint)
        rule = access_rule(view) if view else False
        g.principal = None
        if rule is None:
            # Public views may still know who is calling (pages show a logout link).
            try:
                g.principal = current_principal()
            except Unauthorized:
                g.principal = None
            return
        if rule is False:
            raise Forbidden("this endpoint has no access rule", code="NO_ACCESS_RULE")
        principal = current_principal()
        if principal is None:
            raise Unauthorized("authentication required: send a bearer token or log in", code="AUTH_REQUIRED")
        if not isinstance(rule, frozenset) or principal.role not in rule:
            raise Forbidden(f"role {principal.role!r} may not use this endpoint", code="ROLE_FORBIDDEN")
        g.principal = principal


def require_principal() -> Principal:
    """The authenticated principal (views with a role rule always have one)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("authentication required", code="AUTH_REQUIRED")
    return principal
