"""Tokens and users: create, revoke, verify (no Flask)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_service.errors import Conflict, InvalidInput, NotFound
from geo_service.storage import repo
from geo_service.storage.models import ApiToken, User
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
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
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
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    return user
