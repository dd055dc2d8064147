"""Supervisor pages of the Call Center 110 evaluation (issue 16): the national dashboard with the
choropleth of answer rates, rankings, the daily/weekly trend and the drill-down MABES -> Polda -> Polres ->
Polsek; printable. Thin views over ``services.calls`` (the same report as the API)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from flask import Blueprint, g, render_template, request

from geo_service.maps.calls import render_answer_rate_map
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


def weekly_rows(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Daily counts summed by ISO week (``YYYY-Www``), in order, with the answered share."""
    weeks: OrderedDict[str, list[int]] = OrderedDict()
    for d in days:
        iso = date.fromisoformat(d["day"]).isocalendar()
        key = f"{iso[0]:04d}-W{iso[1]:02d}"
        acc = weeks.setdefault(key, [0, 0])
        acc[0] += d["offered"]
        acc[1] += d["answered"]
    top = max((v[0] for v in weeks.values()), default=0) or 1
    return [{"week": k, "offered": o, "answered": a, "rate": round(a / o, 4) if o else None,
             "bar_pct": round(100 * o / top)} for k, (o, a) in weeks.items()]


@bp.get("/reports/calls")
@allow("supervisor")
def dashboard() -> Any:
    """The Anev 110 dashboard of a unit (default: the caller's unit, else Mabes) for a period."""
    idx = index()
    session = db_session()
    report = svc.report_for(session, idx, service().settings, unit=request.args.get("unit"), scope=_scope(),
                            args=request.args, now=utcnow())
    hierarchy = svc.hierarchy_for(idx)
    map_html = None
    features = svc.answer_rate_features(report, idx)
    if features["features"]:
        map_html = map_frame(render_answer_rate_map(features, **tile_kwargs()))
    days = svc.weekly_trend(session, hierarchy, report)
    chain = [hierarchy.node(c) for c in reversed(hierarchy.ancestors(report["unit"]["code"]))
             if hierarchy.within(c, _scope())]
    period = {k: request.args[k] for k in ("from", "to", "week", "month") if request.args.get(k)}
    query = "&".join(f"{k}={v}" for k, v in period.items())
    return render_template("calls_dashboard.html", r=report, map_html=map_html, weeks=weekly_rows(days),
                           days=days, chain=chain, query=query, period=period, lang=g.lang)
