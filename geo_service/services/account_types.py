"""Typed bodies of the accounts API (tokens, page users) and of officer links.

Documentation types (see :mod:`geo_service.services.api_types`): :mod:`geo_service.services.accounts`
and :mod:`geo_service.services.officer_links` build the answers.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from geo_service.services.accounts import MAX_TOKEN_DAYS, MIN_PASSWORD_CHARS
from geo_service.services.api_types import UNSET, Answer, Body, IsoTime, UnsetType, describe, one_of
from geo_service.storage.repo import ROLES

Role = Annotated[str, one_of(ROLES)]
UnitCode = Annotated[str, Meta(max_length=40, examples=["51.01"],
                               description="limit to this unit and the units below it")]


class TokenCreate(Body):
    """A bearer token to make."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    role: Role
    unit_code: UnitCode | UnsetType = UNSET
    expires_in_days: Annotated[int, Meta(ge=1, le=MAX_TOKEN_DAYS)] | UnsetType = UNSET


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


class UserCreate(Body):
    """A page user to make."""

    username: Annotated[str, Meta(min_length=1, max_length=80)]
    password: Annotated[str, Meta(min_length=MIN_PASSWORD_CHARS, max_length=200)]
    role: Role
    unit_code: UnitCode | UnsetType = UNSET


class UserPatch(Body, forbid_unknown_fields=True):
    """Changes to a page user (any change ends the user's login sessions)."""

    role: Role | UnsetType = UNSET
    unit_code: Annotated[str, Meta(max_length=40)] | None | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


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
