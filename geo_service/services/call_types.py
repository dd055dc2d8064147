"""Typed bodies of the Call Center 110 API: call records in, the import result and the Anev report out.

Documentation types (see :mod:`geo_service.services.api_types`): :mod:`geo_service.services.calls`
builds the answers.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, field

from geo_service.services.api_types import UNSET, Answer, Body, IsoTime, UnsetType, describe, one_of
from geo_service.services.calls import MAX_CALL_ID, OUTCOMES


class CallRecord(Body):
    """One 110 call from the telephony integration (idempotent by ``call_id``: a repeat updates)."""

    call_id: Annotated[str, Meta(max_length=MAX_CALL_ID)]
    started_at: Annotated[IsoTime, Meta(examples=["2026-11-02T08:15:00+08:00"])]
    ended_at: IsoTime
    routed_to: Annotated[list[str] | str, describe("unit lines the call rang, in order (list or ';'-separated)")]
    outcome: Annotated[str, one_of(OUTCOMES)]
    answered_at: Annotated[str | None, describe("empty or null: not answered")] | UnsetType = UNSET
    answered_by: Annotated[str | None, describe("unit code that answered")] | UnsetType = UNSET
    caller_unit: str | None | UnsetType = UNSET
    incident_id: int | str | None | UnsetType = UNSET


class CallsUpload(Body):
    """A CSV file of calls (columns in the README)."""

    file: Annotated[bytes, Meta(extra_json_schema={"type": "string", "format": "binary", "contentEncoding": None})]


class RowError(Answer):
    """A bad row: its line (CSV) or index (JSON), the column and the reason."""

    row: int | str
    column: str
    detail: str
    pointer: str | UnsetType = UNSET


class ImportResult(Answer):
    """Calls stored (created or updated) and rows rejected."""

    rows: int
    created: int
    updated: int
    rejected: int
    errors: list[RowError]


class ReportUnit(Answer):
    """The unit a report is about (``own_line``: the unit's own line among its children)."""

    code: str
    name: str | None
    level: str | None
    own_line: bool | UnsetType = UNSET


class CallTallies(Answer):
    """Calls offered and answered, answer times, outcomes and overflow."""

    offered: int
    answered: int
    not_answered: int
    answer_rate: float | None
    answered_within_s: Annotated[dict[str, float | None],
                                 describe("share of the offered calls answered within 10, 15, 20 s (0..1)")]
    median_s_to_answer: float | None
    p90_s_to_answer: float | None
    abandoned: int
    by_outcome: dict[str, int]
    prank_share: float | None
    silent_share: float | None
    overflow: Annotated[int, describe("calls answered higher up than the first unit they rang "
                                      "(answered_by is not routed_to[0])")]
    overflow_share: Annotated[float | None, describe("overflow / offered (0..1)")]
    answered_above: int


class ResponseTimes(Answer):
    """Response times from the field."""

    incidents: int
    median_s_to_dispatch: float | None
    median_s_to_scene: float | None
    p90_s_to_scene: float | None
    on_scene: int
    within_target: Annotated[int, describe("count of incidents on scene within the unit's target (call -> on scene)")]
    within_target_share: Annotated[float | None, describe("within_target / on_scene (0..1)")]
    open: int
    open_by_age: dict[str, int]


class ReportChild(Answer):
    """A unit below, ranked."""

    unit: ReportUnit
    calls: CallTallies
    response: ResponseTimes
    rank_by_volume: int
    rank_by_not_answered: int


class CallReport(Answer):
    """The Call Center 110 evaluation (Anev) of a unit for whole local days."""

    unit: ReportUnit
    from_: Annotated[str, Meta(extra_json_schema={"format": "date"})] = field(name="from")
    to: Annotated[str, Meta(extra_json_schema={"format": "date"})]
    timezone: str
    timezone_label: str
    period_start: IsoTime
    period_end: IsoTime
    as_of: IsoTime
    calls: CallTallies
    response: ResponseTimes
    children: list[ReportChild]
    top_by_volume: list[str]
    most_not_answered: list[str]
    below_half_answered: list[str]
