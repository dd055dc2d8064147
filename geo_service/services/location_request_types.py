"""Typed bodies of location requests: the console's request and state, the caller's reply.

Documentation types (see :mod:`geo_service.services.api_types`): :mod:`geo_service.services.location_requests`
builds the answers; the caller's answer (:class:`~geo_service.services.location_requests.CallerAnswer`) lives
with its use case, which decodes it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from geo_service.services.api_types import (
    UNSET,
    Answer,
    Body,
    IsoTime,
    LocateAnswerRef,
    UnsetType,
    describe,
    one_of,
)
from geo_service.services.location_requests import LANGS, SOURCES


class LocationRequestCreate(Body, forbid_unknown_fields=True):
    """A location request for a caller (every field optional)."""

    incident_id: Annotated[int, Meta(ge=1, description="the incident this call belongs to")] | UnsetType = UNSET
    phone: Annotated[str, Meta(max_length=40, examples=["+62 812 3456 7890"],
                               description="the caller's number, for the sms:/WhatsApp link (stored, masked in "
                                           "the audit)")] | UnsetType = UNSET
    lang: Annotated[str, one_of(LANGS, "language of the SMS text and of the caller's page (default id)")] \
        | UnsetType = UNSET


class LocationRequestCreated(Answer):
    """A new location request: the caller's link, the text to send and a QR code."""

    id: str
    url: Annotated[str, describe("the caller's page", examples=["/l/AbCdEfGhIjKl0123456789abcdef"])]
    short_code: Annotated[str, describe("lets the caller check the page belongs to this call",
                                        examples=["K7Q-4MP"])]
    expires_at: IsoTime
    sms_text: str
    qr_svg: Annotated[str, describe("data:image/svg+xml URI")]
    incident_id: int | None
    phone: Annotated[str | None, describe("the caller's number as given")]


class LocationRequestState(Answer):
    """State of a location request and, once the caller answered, the located answer."""

    id: str
    status: Literal["waiting", "received", "expired", "denied"]
    version: Annotated[str, describe("pass back as ?since= to wait for the next change")]
    location: Annotated[LocateAnswerRef | None,
                        describe("the locate answer of the caller's position, plus 'fix' "
                                 "{source, accuracy_m, timestamp, age_s_at_receipt}")]
    received_at: IsoTime | None
    opened_at: IsoTime | None
    denied_at: IsoTime | None
    expires_at: IsoTime
    created_at: IsoTime
    created_by: str | None
    short_code: str
    incident_id: int | None
    source: Annotated[str, one_of(SOURCES)] | None
    text: Annotated[str | None, describe("the place the caller typed (source text)")]


class CallerReply(Answer):
    """What the caller's page shows after an answer."""

    status: str
    accuracy_m: float | None
