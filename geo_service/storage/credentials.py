"""Queries on the credentials: page users, their login sessions, API tokens, officer links, revocations.

Tokens and login-session keys are stored only as SHA-256 hashes (:func:`geo_service.storage.repo.hash_token`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo_service.storage.models import ApiToken, LoginSession, OfficerLink, User


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username`` (None when there is none)."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    """Every page user, by username."""
    return list(session.execute(select(User).order_by(User.username)).scalars())


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first."""
    return list(session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())


def delete_login_sessions_expired_before(session: Session, user_id: int, moment: datetime) -> None:
    """Forget the user's logins that expired before ``moment``."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.expires_at < moment))


def find_login_session(session: Session, key_hash: str) -> LoginSession | None:
    """The login session of a key hash (None when unknown), whatever its state."""
    return session.execute(select(LoginSession).where(LoginSession.key_hash == key_hash)).scalar_one_or_none()


def find_login_session_with_user(session: Session, key_hash: str) -> tuple[LoginSession, User] | None:
    """The login session of a key hash and its user (None when unknown), whatever their state."""
    row = session.execute(
        select(LoginSession, User).join(User, User.id == LoginSession.user_id).where(LoginSession.key_hash == key_hash)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def unrevoked_login_sessions(session: Session, user_id: int) -> list[LoginSession]:
    """The user's login sessions not ended yet (expired ones included)."""
    return list(session.execute(select(LoginSession).where(LoginSession.user_id == user_id,
                                                           LoginSession.revoked_at.is_(None))).scalars())


def find_officer_link(session: Session, jti: str) -> OfficerLink | None:
    """The officer link with this id (None when unknown)."""
    return session.execute(select(OfficerLink).where(OfficerLink.jti == jti)).scalar_one_or_none()


def officer_link_incident_id(session: Session, jti: str) -> int | None:
    """The incident an officer link was sent for (None for a bare point or an unknown link)."""
    return session.execute(select(OfficerLink.incident_id).where(OfficerLink.jti == jti)).scalar_one_or_none()


def revoked_since(session: Session, since: datetime | None, now: datetime) -> dict[str, set[str]]:
    """Credentials revoked at or after ``since`` (all still-valid revoked ones when None):
    ``{"token": token hashes, "link": link ids, "session": login-session key hashes}``."""

    def newer(column: Any) -> Any:
        return column.is_not(None) if since is None else column >= since

    tokens = session.execute(select(ApiToken.token_hash).where(newer(ApiToken.revoked_at))).scalars()
    # Expired links and sessions are refused anyway: no need to remember their revocation.
    links = session.execute(select(OfficerLink.jti).where(newer(OfficerLink.revoked_at),
                                                          OfficerLink.expires_at > now)).scalars()
    sessions = session.execute(select(LoginSession.key_hash).where(newer(LoginSession.revoked_at),
                                                                   LoginSession.expires_at > now)).scalars()
    return {"token": set(tokens), "link": set(links), "session": set(sessions)}
