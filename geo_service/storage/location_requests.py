"""Queries on location requests (issue 15); the rules live in ``services.location_requests``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo_service.storage.models import LocationRequest


def find_by_link_id(session: Session, link_id: str) -> LocationRequest | None:
    """The request whose link carries ``link_id`` (unique index)."""
    return session.execute(select(LocationRequest).where(LocationRequest.link_id == link_id)).scalar_one_or_none()


def find_by_public_id(session: Session, public_id: str) -> LocationRequest | None:
    """The request a console knows by ``public_id`` (unique index)."""
    return session.execute(select(LocationRequest).where(LocationRequest.public_id == public_id)
                           ).scalar_one_or_none()


def close_with_answer(session: Session, row: LocationRequest, *, at: datetime, answer: dict[str, Any],
                      answer_sha256: str, location: dict[str, Any] | None) -> bool:
    """Mark ``row`` received with this answer unless it already is; True when this call closed it.

    One conditional UPDATE, so that of two answers racing exactly one wins on PostgreSQL and on
    SQLite alike; ``row`` is refreshed either way.
    """
    done = session.execute(
        update(LocationRequest)
        .where(LocationRequest.id == row.id, LocationRequest.status != "received")
        .values(status="received", received_at=at, answer=answer, answer_sha256=answer_sha256, location=location)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    return done == 1
