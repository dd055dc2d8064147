"""Typed answers of the accounts API (tokens, page users) and of officer links.

Documentation types (see :mod:`geo_service.services.api_types`): :mod:`geo_service.services.accounts`
and :mod:`geo_service.services.officer_links` build the answers; the request bodies (``TokenCreate``,
``UserCreate``, ``UserPatch``) live in :mod:`geo_service.services.accounts`, which decodes them.
"""

from __future__ import annotations

from typing import Annotated

from geo_service.services.api_types import Answer, IsoTime, describe, one_of
from geo_service.storage.repo import ROLES

Role = Annotated[str, one_of(ROLES)]


class Token(Answer):
    """A token's public fields (never the token or its hash)."""

    id: int
    name: str
    role: Role
    unit_code: str | None
    created_at: IsoTime
    created_by: str | None
    expires_at: IsoTime | None
    revoked_at: IsoTime | None
    last_used_at: IsoTime | None
    active: bool


class NewToken(Token):
    """A new token, with the clear bearer token: shown only this once."""

    token: Annotated[str, describe("the bearer token; the database keeps only its SHA-256")]


class User(Answer):
    """A page user's public fields (never the password hash)."""

    id: int
    username: str
    role: Role
    unit_code: str | None
    disabled: bool
    created_at: IsoTime


class OfficerLink(Answer):
    """A signed, expiring link to the officer page."""

    url: Annotated[str, describe("the officer page", examples=["/p/<token>"])]
    jti: Annotated[str, describe("the link's id (to revoke it)")]
    expires_at: IsoTime
    incident_id: int | None


class OfficerLinkRevoked(Answer):
    """A revoked officer link."""

    jti: str
    revoked: bool
