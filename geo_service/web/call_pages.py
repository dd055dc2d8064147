"""Supervisor pages of the Call Center 110 evaluation (issue 16): the national dashboard with the
choropleths of answer rates and of response-time compliance, rankings, the daily/weekly trend and the drill-down MABES -> Polda -> Polres ->
Polsek; printable. Thin views over ``services.calls`` (the same report as the API)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, g, render_template, request

from geo_service.maps.calls import render_answer_rate_map, render_response_map
from geo_service.services import calls as svc
from geo_service.storage.types import utcnow
from geo_service.web.auth import allow, require_principal
from geo_service.web.common import map_frame, page_setup, tile_kwargs
from geo_service.web.context import db_session, index, service

bp = Blueprint("call_pages", __name__, template_folder="templates")
bp.before_request(page_setup)  # nonce, language and the CSRF check, as on every page


def _scope() -> str | None:
    principal = require_principal()
    return None if principal.role == "admin" else principal.unit_code


def weekly_rows(days: list[dict[str, Any]], first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Daily counts summed by ISO week (``YYYY-Www``), in order, with the answered share and the
    week's Monday to Sunday within the period ``first_day``..``last_day`` (shown instead of the ISO week)."""
    weeks: OrderedDict[str, list[int]] = OrderedDict()
    for d in days:
        iso = date.fromisoformat(d["day"]).isocalendar()
        key = f"{iso[0]:04d}-W{iso[1]:02d}"
        acc = weeks.setdefault(key, [0, 0])
        acc[0] += d["offered"]
        acc[1] += d["answered"]
    top = max((v[0] for v in weeks.values()), default=0) or 1
    start, end = date.fromisoformat(first_day), date.fromisoformat(last_day)
    rows = []
    for key, (offered, answered) in weeks.items():
        monday = date.fromisoformat(key + "-1")
        rows.append({"week": key, "first": max(monday, start), "last": min(monday + timedelta(days=6), end),
                     "offered": offered, "answered": answered,
                     "rate": round(answered / offered, 4) if offered else None, "bar_pct": round(100 * offered / top)})
    return rows


@bp.get("/reports/calls")
@allow("supervisor")
def dashboard() -> Any:
    """The Anev 110 dashboard of a unit (default: the caller's unit, else Mabes) for a period."""
    idx = index()
    session = db_session()
    report = svc.report_for(session, idx, service().settings, unit=request.args.get("unit"), scope=_scope(),
                            args=request.args, now=utcnow())
    hierarchy = svc.hierarchy_for(idx)
    maps = {}
    features = svc.child_map_features(report, idx)
    if features["features"]:
        maps = {"answer_rate": map_frame(render_answer_rate_map(features, **tile_kwargs())),
                "response": map_frame(render_response_map(features, **tile_kwargs()))}
    days = svc.weekly_trend(session, hierarchy, report)
    chain = [hierarchy.node(c) for c in reversed(hierarchy.ancestors(report["unit"]["code"]))
             if hierarchy.within(c, _scope())]
    period = {k: request.args[k] for k in ("from", "to", "week", "month") if request.args.get(k)}
    query = "&".join(f"{k}={v}" for k, v in period.items())
    weeks = weekly_rows(days, report["from"], report["to"])
    return render_template("calls_dashboard.html", r=report, maps=maps, weeks=weeks, days=days,
                           chain=chain, query=query, period=period, lang=g.lang)
