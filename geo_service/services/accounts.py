"""Tokens and users: create, revoke, verify (no Flask)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from geo_service.errors import NotFound
from geo_service.storage import repo
from geo_service.storage.models import ApiToken
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
