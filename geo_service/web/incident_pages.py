"""Incident pages: log a call from the console, the list with its map, one incident, the weekly recap.

Thin views over ``services.incidents`` and ``services.recap`` (the same functions as the API);
forms carry the CSRF token checked in ``web.pages``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from geo_service.errors import BadRequest, GeoServiceError
from geo_service.maps import render_incidents_map
from geo_service.maps.charts import BAR_COLOUR, Series, render_bar_chart, status_series
from geo_service.services import calls as calls_service
from geo_service.services import incidents as svc
from geo_service.services import milestones
from geo_service.services import recap as recap_service
from geo_service.storage.types import utcnow
from geo_service.translations import labels
from geo_service.web.auth import allow, require_principal
from geo_service.web.common import map_frame, page_setup, tile_kwargs
from geo_service.web.context import actor, db_session, index, places, service, write_transaction
from geo_service.web.i18n import page_error, texts

bp = Blueprint("incident_pages", __name__, template_folder="templates")
bp.before_request(page_setup)  # nonce, language and the CSRF check, as on every page


def _scope() -> str | None:
    principal = require_principal()
    return None if principal.role == "admin" else principal.unit_code


def _now_and_overdue() -> tuple[datetime, int]:
    return utcnow(), service().settings.overdue_minutes


@bp.post("/incidents/new")
@allow("dispatcher")
def create_from_console() -> Any:
    """Log a call from the console with the location the dispatcher just checked."""
    location: dict[str, Any] = {"text": request.form.get("q", "")[:2000]}
    if request.form.get("hint"):
        location["hint_unit"] = request.form["hint"][:40]
    body = {
        "location": location,
        "category": request.form.get("category", "lainnya"),
        "description": request.form.get("description", "")[:4000],
        "channel": request.form.get("channel", "call_110"),
        "reported_at": datetime.now(UTC).astimezone().isoformat(),
    }
    with write_transaction() as session:
        incident = svc.create_incident(session, body, index(), actor=actor(), lang=g.lang, request_id=g.request_id,
                                       places=places(), index_at=service().holder.index_at)
        incident_id = incident.id
    return redirect(url_for("incident_pages.incident_page", incident_id=incident_id))


#: Time-to-first-action bucket (``services.recap.FIRST_ACTION_BUCKETS`` + open) -> its ``t.`` key.
_BUCKET_TEXTS = {"lt15": "bucket_lt15", "15_30": "bucket_15_30", "30_60": "bucket_30_60", "60_120": "bucket_60_120",
                 "120_240": "bucket_120_240", "gt240": "bucket_gt240", "open": "bucket_open"}


def _charts(data: dict[str, Any]) -> dict[str, str]:
    """The three SVG pictures of ``recap_service`` chart data, worded in the page's language."""
    t = texts(g.lang)
    statuses = status_series(labels(g.lang, "incident_status"))
    by_unit = render_bar_chart(
        chart_id="chart-by-unit", title=t["chart_by_unit"], series=statuses,
        categories=[(row["code"], row["name"]) for row in data["by_unit"]],
        values={row["code"]: row["counts"] for row in data["by_unit"]}, x_label=t["unit"], y_label=t["incidents"])
    trend = render_bar_chart(
        chart_id="chart-trend", title=t["chart_trend"], series=statuses,
        categories=[(row["week"], row["week"][5:]) for row in data["trend"]],
        values={row["week"]: row["counts"] for row in data["trend"]}, x_label=t["week"], y_label=t["incidents"])
    first = render_bar_chart(
        chart_id="chart-first-action", title=t["chart_first_action"],
        series=[Series("count", t["incidents"], BAR_COLOUR)],
        categories=[(key, t[_BUCKET_TEXTS[key]]) for key in data["first_action"]],
        values={key: {"count": n} for key, n in data["first_action"].items()},
        x_label=t["time_to_first_action"], y_label=t["incidents"])
    return {"by_unit": by_unit, "trend": trend, "first_action": first}


def _chart_unit(unit: str | None) -> str | None:
    """The unit whose children the incidents page pictures: the filter's, else the viewer's, else the top one."""
    if unit:
        return unit
    roots = sorted(c for c, u in index().units.items() if u.parent_code is None)
    return roots[0] if roots else None


def _incident_charts(query: svc.IncidentQuery, now: datetime, overdue: int) -> dict[str, str] | None:
    """Charts of the incidents page: status by unit and first-action times of the listed period, 8-week trend."""
    unit_code = _chart_unit(query.unit)
    if unit_code is None or unit_code not in index().units:
        return None
    try:
        weeks = recap_service.trend_weeks(unit_code, now)
    except KeyError:  # a province without a known time zone: no weekly pictures
        return None
    session = db_session()
    listed = list(svc.iter_incidents(session, query, now=now, overdue_minutes=overdue))
    trend_query = svc.IncidentQuery(unit=query.unit, status=query.status, category=query.category,
                                    date_from=weeks[0][1], date_to=weeks[-1][2])
    recent = list(svc.iter_incidents(session, trend_query, now=now, overdue_minutes=overdue))
    return _charts({"by_unit": recap_service.status_by_unit(listed, index(), unit_code),
                    "trend": recap_service.weekly_trend(recent, weeks),
                    "first_action": recap_service.first_action_histogram(listed)})


def _parse_day(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date such as 2026-11-28", code="INVALID_DATE") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/incidents")
@allow("dispatcher", "supervisor", "officer")
def incidents_page() -> Any:
    """List and map of incidents (filters: unit, status, category, from, to; heat map option)."""
    now, overdue = _now_and_overdue()
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    date_from = _parse_day("from") or (now - timedelta(days=14))
    date_to = _parse_day("to")
    query = svc.IncidentQuery(unit=svc.effective_unit(request.args.get("unit") or None, _scope()),
                              status=status if status in svc.STATUSES else None,
                              category=category if category in svc.CATEGORIES else None,
                              date_from=date_from, date_to=date_to)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    items, total = svc.list_incidents(db_session(), query, now=now, overdue_minutes=overdue, page=page, per_page=100)
    idx = index()
    rows = [svc.incident_to_dict(i, idx, now=now, overdue_minutes=overdue, with_location=False) for i in items]
    points = [{"id": i.id, "lat": i.lat, "lon": i.lon, "status": i.status, "category": i.category,
               "reported_at": i.reported_at.isoformat()}
              for i in svc.iter_incidents(db_session(), query, now=now, overdue_minutes=overdue) if i.lat is not None]
    map_html = render_incidents_map(points[:5000], heat=request.args.get("heat") == "1", **tile_kwargs())
    return render_template("incidents.html", rows=rows, total=total, page=page, query=query,
                           status_labels=labels(g.lang, "incident_status"), categories=svc.CATEGORIES,
                           map_html=map_frame(map_html),
                           date_from=date_from.date().isoformat(), date_to=date_to.date().isoformat() if date_to else "",
                           heat=request.args.get("heat") == "1", charts=_incident_charts(query, now, overdue))


def _render_incident(incident_id: int, error: str | None = None) -> Any:
    now, overdue = _now_and_overdue()
    session = db_session()
    incident = svc.get_incident(session, incident_id, scope=_scope())
    data = svc.incident_to_dict(incident, index(), now=now, overdue_minutes=overdue,
                                events=svc.list_events(session, incident_id))
    next_statuses = sorted(svc.TRANSITIONS.get(incident.status, ()))
    return render_template("incident.html", inc=data, error=error, next_statuses=next_statuses,
                           status_labels=labels(g.lang, "incident_status"),
                           timeline=milestones.timeline(session, incident, lang=g.lang))


@bp.get("/incidents/<int:incident_id>")
@allow("dispatcher", "supervisor", "officer")
def incident_page(incident_id: int) -> Any:
    """One incident with its history."""
    return _render_incident(incident_id)


@bp.post("/incidents/<int:incident_id>")
@allow("dispatcher")
def update_incident_page(incident_id: int) -> Any:
    """A dispatcher changes the status, reassigns or adds a note (same service as PATCH)."""
    body: dict[str, Any] = {"version": request.form.get("version", type=int)}
    for key in ("status", "unit_code", "note"):
        if request.form.get(key):
            body[key] = request.form[key][:4000]
    try:
        with write_transaction() as session:
            svc.update_incident(session, incident_id, body, index(), actor=actor(), scope=_scope(),
                                request_id=g.request_id, now=utcnow())
    except GeoServiceError as exc:
        if exc.status not in (409, 422):
            raise
        return _render_incident(incident_id, error=page_error(exc.code, exc.detail))
    return redirect(url_for("incident_pages.incident_page", incident_id=incident_id))


@bp.get("/reports/weekly")
@allow("supervisor")
def recap_page() -> Any:
    """The weekly recap of a unit: counts, unhandled calls, medians, units below ranked, a map; printable."""
    now, overdue = _now_and_overdue()
    idx = index()
    unit_code = svc.effective_unit(request.args.get("unit") or None, _scope())
    if unit_code is None:
        roots = sorted(c for c, u in idx.units.items() if u.parent_code is None)
        unit_code = roots[0] if roots else None
    if unit_code is None:
        raise BadRequest("give ?unit=<code>", code="UNIT_REQUIRED")
    recap = recap_service.weekly_recap(db_session(), idx, index_at=service().holder.index_at, unit_code=unit_code, week=request.args.get("week") or None,
                                       now=now, overdue_minutes=overdue)
    start = datetime.fromisoformat(recap["from"])
    end = datetime.fromisoformat(recap["to"])
    query = svc.IncidentQuery(unit=unit_code, date_from=start, date_to=end)
    points = [{"id": i.id, "lat": i.lat, "lon": i.lon, "status": i.status, "category": i.category,
               "reported_at": i.reported_at.isoformat()}
              for i in svc.iter_incidents(db_session(), query, now=now, overdue_minutes=overdue) if i.lat is not None]
    heat = request.args.get("heat") == "1"
    map_html = render_incidents_map(points, heat=heat, **tile_kwargs())
    units = sorted(((u.code, u.name) for u in idx.units.values()
                    if u.level != "polsek" and svc.code_in_scope(u.code, _scope())), key=lambda x: x[0])
    rc = calls_service.report_for(db_session(), idx, service().settings, unit=unit_code, scope=_scope(),
                                  args={"week": recap["week"]}, now=now)  # the 110 figures (issue 16)
    charts = _charts(recap_service.recap_chart_data(db_session(), idx, recap, now))
    return render_template("recap.html", r=recap, units=units, map_html=map_frame(map_html), heat=heat,
                           status_labels=labels(g.lang, "incident_status"), statuses=svc.STATUSES,
                           categories=svc.CATEGORIES, rc=rc, charts=charts,
                           week_days=(start.date(), (end - timedelta(days=1)).date()))  # the unit's local days
