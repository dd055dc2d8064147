"""Tokens, users and page login sessions: create, revoke, verify (no Flask).

Page logins are kept on the server (``login_sessions``): the browser's cookie carries a random
key, the table its SHA-256. Each request reads the row with its user, so logout, disabling a
user and a role change take effect on the next request (issue 12, item 5).
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy.orm import Session

from geo_service.errors import Conflict, InvalidInput, NotFound
from geo_service.services.api_types import Body, decode, one_of
from geo_service.storage import credentials, repo
from geo_service.storage.models import ApiToken, LoginSession, User
from geo_service.storage.types import utcnow


def revoke_token(session: Session, token_id: int, *, actor: str, request_id: str | None = None) -> ApiToken:
    """Mark a token revoked (audited); revoking twice is harmless."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    repo.audit(session, actor=actor, action="token.revoke", target_type="api_token", target_id=token_id,
               request_id=request_id)
    return row


# ------------------------------------------------------------------ users (page logins)

_HASHER = PasswordHasher()  # argon2id with the library's current defaults (slow by design)
MIN_PASSWORD_CHARS = 10


def create_user(session: Session, *, username: str, password: str, role: str, unit_code: str | None,
                actor: str) -> User:
    """Create a page user with an argon2id password hash (audited)."""
    if role not in repo.ROLES:
        raise InvalidInput(f"unknown role {role!r}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_CHARS} characters", code="PASSWORD_TOO_SHORT")
    if credentials.find_user(session, username):
        raise Conflict(f"user {username!r} exists already", code="USER_EXISTS")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role, unit_code=unit_code)
    session.add(user)
    session.flush()
    repo.audit(session, actor=actor, action="user.create", target_type="user", target_id=user.id,
               detail={"username": username, "role": role, "unit_code": unit_code})
    return user


_DUMMY_HASH = _HASHER.hash("not-a-real-password-0")


def verify_login(session: Session, username: str, password: str) -> User | None:
    """The user when the password matches; None otherwise (same work either way)."""
    user = credentials.find_user(session, username)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    return user


# ------------------------------------------------------------------ login sessions (server side)

DEFAULT_SESSION_TTL_S = 12 * 3600  # one shift


def start_login_session(session: Session, user: User, *, ttl_s: int = DEFAULT_SESSION_TTL_S) -> str:
    """Record a new login of ``user``; returns the clear key for the cookie (stored only as a hash)."""
    key = secrets.token_urlsafe(32)
    # The user's long-expired logins are not needed any more (keeps the table small).
    credentials.delete_login_sessions_expired_before(session, user.id, utcnow() - timedelta(days=1))
    session.add(LoginSession(key_hash=repo.hash_token(key), user_id=user.id,
                             expires_at=utcnow() + timedelta(seconds=ttl_s)))
    session.flush()
    return key


def find_login_session(session: Session, key: str) -> tuple[LoginSession, User] | None:
    """The live session and its user for a cookie key; None when unknown, ended, expired or disabled."""
    row = credentials.find_login_session_with_user(session, repo.hash_token(key))
    if row is None:
        return None
    login, user = row
    if login.revoked_at is not None or login.expires_at <= utcnow() or user.disabled:
        return None
    return login, user


def end_login_session(session: Session, key: str) -> str | None:
    """Logout: end the session of this cookie key; returns its hash (None when it was unknown)."""
    key_hash = repo.hash_token(key)
    login = credentials.find_login_session(session, key_hash)
    if login is None:
        return None
    if login.revoked_at is None:
        login.revoked_at = utcnow()
    return key_hash


def end_user_sessions(session: Session, user_id: int) -> list[str]:
    """End every live session of a user; returns their key hashes."""
    now = utcnow()
    rows = credentials.unrevoked_login_sessions(session, user_id)
    for login in rows:
        login.revoked_at = now
    return [login.key_hash for login in rows]


def update_user_from_body(session: Session, user_id: int, body: Any, *, actor: str,
                          known_units: Container[str] | None = None) -> tuple[User, list[str]]:
    """Change ``{role?, unit_code?, disabled?}`` of a user (audited).

    Disabling a user or changing their role or unit ends every session they have (they log in
    again and get the new rights). Returns the user and the key hashes of the ended sessions.
    """
    data = _decode(UserPatch, body)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    changes: dict[str, Any] = {}
    if data.role is not UNSET:
        changes["role"] = _role(data.role)
    if data.unit_code is not UNSET:
        changes["unit_code"] = _unit(data.unit_code, known_units)
    if data.disabled is not UNSET:
        changes["disabled"] = data.disabled
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    for name, value in changed.items():
        setattr(user, name, value)
    ended = end_user_sessions(session, user.id) if changed else []
    repo.audit(session, actor=actor, action="user.update", target_type="user", target_id=user.id,
               detail={**changed, "sessions_ended": len(ended)})
    return user, ended


# ------------------------------------------------------------------ admin API helpers (issue 7)

MAX_TOKEN_DAYS = 3650
T = TypeVar("T")


class TokenCreate(Body):
    """A bearer token to make."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    role: Annotated[str, one_of(repo.ROLES)]
    unit_code: Annotated[str, Meta(max_length=40, examples=["51.01"],
                                   description="limit the token to this unit and the units below it")] | None = None
    expires_in_days: Annotated[int, Meta(ge=1, le=MAX_TOKEN_DAYS)] | None = None


class UserCreate(Body):
    """A page user to make (the password's minimum length is checked with its own code, PASSWORD_TOO_SHORT)."""

    username: Annotated[str, Meta(min_length=1, max_length=80)]
    password: Annotated[str, Meta(max_length=200, extra_json_schema={"minLength": MIN_PASSWORD_CHARS})]
    role: Annotated[str, one_of(repo.ROLES)]
    unit_code: Annotated[str, Meta(max_length=40)] | None = None


class UserPatch(Body, forbid_unknown_fields=True):
    """Changes to a page user (any change ends the user's login sessions); ``unit_code: null`` clears it."""

    role: Annotated[str, one_of(repo.ROLES)] | UnsetType = UNSET
    unit_code: Annotated[str, Meta(max_length=40)] | None | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


def _decode(body_type: type[T], body: Any) -> T:
    """Account bodies answer 422 INVALID_INPUT for every unusable value, as they always did."""
    return decode(body_type, body, title="the body has unusable values", error=InvalidInput, code="INVALID_INPUT")


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise InvalidInput(f"{name!r} must be a non-empty string",
                           errors=[{"pointer": f"/{name}", "detail": "missing or not a usable string"}])
    return value.strip()


def _role(role: str) -> str:
    if role not in repo.ROLES:
        raise InvalidInput(f"'role' must be one of {', '.join(repo.ROLES)}", code="UNKNOWN_ROLE",
                           errors=[{"pointer": "/role", "detail": "unknown role"}])
    return role


def _unit(value: str | None, known_units: Container[str] | None) -> str | None:
    unit_code = _text(value, "unit_code")
    if unit_code is not None and known_units is not None and unit_code not in known_units:
        raise InvalidInput(f"unit {unit_code!r} is not in the published boundary set", code="UNKNOWN_UNIT",
                           errors=[{"pointer": "/unit_code", "detail": "unknown unit"}])
    return unit_code


def create_token_from_body(session: Session, body: Any, *, actor: str,
                           known_units: Container[str] | None = None) -> tuple[ApiToken, str]:
    """Decode :class:`TokenCreate` and create a token (audited by the repo)."""
    data = _decode(TokenCreate, body)
    name = _text(data.name, "name")
    role = _role(data.role)
    unit_code = _unit(data.unit_code, known_units)
    days = data.expires_in_days
    expires_at = utcnow() + timedelta(days=days) if days is not None else None
    return repo.create_token(session, name=str(name), role=role, unit_code=unit_code, expires_at=expires_at,
                             created_by=actor)


def create_user_from_body(session: Session, body: Any, *, actor: str,
                          known_units: Container[str] | None = None) -> User:
    """Decode :class:`UserCreate` and create a page user (audited)."""
    data = _decode(UserCreate, body)
    username = _text(data.username, "username")
    role = _role(data.role)
    unit_code = _unit(data.unit_code, known_units)
    return create_user(session, username=str(username), password=data.password, role=role, unit_code=unit_code,
                       actor=actor)


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first."""
    return credentials.list_tokens(session)


def list_users(session: Session) -> list[User]:
    """Every page user, by username."""
    return credentials.list_users(session)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def token_to_dict(row: ApiToken) -> dict[str, Any]:
    """A token's public fields (never its hash)."""
    now = utcnow()
    return {
        "id": row.id, "name": row.name, "role": row.role, "unit_code": row.unit_code,
        "created_at": _iso(row.created_at), "created_by": row.created_by,
        "expires_at": _iso(row.expires_at), "revoked_at": _iso(row.revoked_at),
        "last_used_at": _iso(row.last_used_at),
        "active": row.revoked_at is None and (row.expires_at is None or row.expires_at > now),
    }


def user_to_dict(user: User) -> dict[str, Any]:
    """A user's public fields (never the password hash)."""
    return {"id": user.id, "username": user.username, "role": user.role, "unit_code": user.unit_code,
            "disabled": user.disabled, "created_at": _iso(user.created_at)}
