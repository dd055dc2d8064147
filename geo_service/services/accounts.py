"""Tokens, users and page login sessions: create, revoke, verify (no Flask).

Page logins are kept on the server (``login_sessions``): the browser's cookie carries a random
key, the table its SHA-256. Each request reads the row with its user, so logout, disabling a
user and a role change take effect on the next request (issue 12, item 5).
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from geo_service.errors import Conflict, InvalidInput, NotFound
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
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", errors=[{"pointer": "", "detail": "not an object"}])
    unknown = sorted(set(body) - {"role", "unit_code", "disabled"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}",
                           errors=[{"pointer": f"/{name}", "detail": "unknown field"} for name in unknown])
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    changes: dict[str, Any] = {}
    if "role" in body:
        changes["role"] = _role_field(body)
    if "unit_code" in body:
        changes["unit_code"] = _unit_field(body, known_units)
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            raise InvalidInput("'disabled' must be true or false",
                               errors=[{"pointer": "/disabled", "detail": "not a boolean"}])
        changes["disabled"] = body["disabled"]
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    for name, value in changed.items():
        setattr(user, name, value)
    ended = end_user_sessions(session, user.id) if changed else []
    repo.audit(session, actor=actor, action="user.update", target_type="user", target_id=user.id,
               detail={**changed, "sessions_ended": len(ended)})
    return user, ended


# ------------------------------------------------------------------ admin API helpers (issue 7)

MAX_TOKEN_DAYS = 3650


def _text_field(body: dict[str, Any], name: str, *, max_chars: int, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise InvalidInput(f"{name!r} must be a non-empty string of at most {max_chars} characters",
                           errors=[{"pointer": f"/{name}", "detail": "missing or not a usable string"}])
    return value.strip()


def _role_field(body: dict[str, Any]) -> str:
    role = body.get("role")
    if role not in repo.ROLES:
        raise InvalidInput(f"'role' must be one of {', '.join(repo.ROLES)}", code="UNKNOWN_ROLE",
                           errors=[{"pointer": "/role", "detail": "unknown role"}])
    return str(role)


def _unit_field(body: dict[str, Any], known_units: Container[str] | None) -> str | None:
    unit_code = _text_field(body, "unit_code", max_chars=40, required=False)
    if unit_code is not None and known_units is not None and unit_code not in known_units:
        raise InvalidInput(f"unit {unit_code!r} is not in the published boundary set", code="UNKNOWN_UNIT",
                           errors=[{"pointer": "/unit_code", "detail": "unknown unit"}])
    return unit_code


def create_token_from_body(session: Session, body: Any, *, actor: str,
                           known_units: Container[str] | None = None) -> tuple[ApiToken, str]:
    """Validate ``{name, role, unit_code?, expires_in_days?}`` and create a token (audited by the repo)."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", errors=[{"pointer": "", "detail": "not an object"}])
    name = _text_field(body, "name", max_chars=120, required=True)
    role = _role_field(body)
    unit_code = _unit_field(body, known_units)
    days = body.get("expires_in_days")
    expires_at = None
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"'expires_in_days' must be an integer from 1 to {MAX_TOKEN_DAYS}",
                               errors=[{"pointer": "/expires_in_days", "detail": "out of range"}])
        expires_at = utcnow() + timedelta(days=days)
    return repo.create_token(session, name=str(name), role=role, unit_code=unit_code, expires_at=expires_at,
                             created_by=actor)


def create_user_from_body(session: Session, body: Any, *, actor: str,
                          known_units: Container[str] | None = None) -> User:
    """Validate ``{username, password, role, unit_code?}`` and create a page user (audited)."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", errors=[{"pointer": "", "detail": "not an object"}])
    username = _text_field(body, "username", max_chars=80, required=True)
    password = body.get("password")
    if not isinstance(password, str) or len(password) > 200:
        raise InvalidInput("'password' must be a string of at most 200 characters",
                           errors=[{"pointer": "/password", "detail": "missing or too long"}])
    role = _role_field(body)
    unit_code = _unit_field(body, known_units)
    return create_user(session, username=str(username), password=password, role=role, unit_code=unit_code,
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
