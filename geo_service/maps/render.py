"""Map pages rendered with folium into full HTML documents (no Flask here).

Every function takes plain dicts (the JSON the API returns), returns one HTML string whose
scripts, style sheets and images all come from ``assets_url`` (the vendored ``maps/``
folder), and names no other host than the tile URL template. Large polygon sets are not
inlined: the page fetches them from our own API (``units_url``). Labels are Indonesian by
default, English with ``lang="en"``.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any

import folium
from babel.dates import format_date
from folium import plugins

from geo_service.geo.distance import distance_m
from geo_service.geo.geometry import M_PER_DEG
from geo_service.maps.assets import DEFAULT_ASSETS_URL
from geo_service.maps.base import (
    BALI_BOUNDS,
    DEFAULT_TILE_URL,
    GeoJsonLayer,
    InfoBox,
    PointSet,
    add_text,
    bounds_of_points,
    finish,
    fit,
    format_distance,
    format_share,
    geojson_bounds,
    labels,
    latlon,
    name_of,
    new_map,
    point_entry,
    simplify_geojson,
    union_bounds,
)
from geo_service.translations import label, labels as enum_labels
from geo_service.translations.times import format_local_time

#: How the first day of a boundary set is written (CLDR; the month in the reader's language).
SET_DATE_PATTERN = "d MMM y"

#: A corrected-away original farther than this is not pulled into the view.
ORIGINAL_VIEW_MAX_M = 20_000.0

# Colours (also used in legends). Chosen to stay readable on the blank background.
UNIT_STYLE = {"color": "#1d4e89", "weight": 1.2, "fillColor": "#4f83cc", "fillOpacity": 0.08}
RESPONSIBLE_STYLE = {"color": "#0b3d91", "weight": 3, "fillColor": "#2f6fde", "fillOpacity": 0.18}
PLACE_STYLE = {"color": "#6a1b9a", "weight": 2, "dashArray": "4 3", "fillColor": "#ab47bc", "fillOpacity": 0.12}
NEIGHBOUR_STYLE = {"color": "#b35c00", "weight": 2, "dashArray": "6 4", "fillColor": "#f0a202",
                   "fillOpacity": 0.10}
POINT_COLOR = "#c00000"
ORIGINAL_COLOR = "#555555"
STATION_COLOR = "#0b3d91"
SAMPLE_STATION_COLOR = "#ad4e00"

INCIDENT_COLORS = {
    "belum_ditangani": "#d7191c",
    "dalam_proses": "#fd8d3c",
    "selesai": "#1a9641",
    "dibatalkan": "#8c8c8c",
}
#: Cluster colour = the most urgent status inside it (higher wins).
INCIDENT_URGENCY = {"belum_ditangani": 4, "dalam_proses": 3, "selesai": 1, "dibatalkan": 0}

SEVERITY_COLORS = {"error": "#d7191c", "warning": "#fd8d3c", "info": "#2c7bb6", "repaired": "#1a9641"}

CHANGE_COLORS = {
    "added": "#1a9641",
    "removed": "#d7191c",
    "geometry_changed": "#fd8d3c",
    "renamed": "#2c7bb6",
    "reparented": "#7b3294",
    "changed": "#fdae61",
    "unchanged": "#bababa",
}


def _unit_fields(lang: str) -> list[list[str]]:
    text = labels(lang)
    return [["code", text["code"]], ["level", text["level"]], ["parent_code", text["parent_code"]]]


def _unit_options(lang: str, style: dict[str, Any], *, fit_view: bool = False) -> dict[str, Any]:
    return {
        "style": style,
        "titleField": "name",
        "fields": _unit_fields(lang),
        "valueLabels": {"level": enum_labels(lang, "level")},
        "popup": True,
        "fit": fit_view,
        "errorText": labels(lang)["layer_error"],
    }


def _point(obj: Any) -> tuple[float, float] | None:
    """``(lon, lat)`` of a ``{"lat","lon"}`` dict, or None."""
    if not isinstance(obj, dict):
        return None
    try:
        return float(obj["lon"]), float(obj["lat"])
    except (KeyError, TypeError, ValueError):
        return None


def _legend(title: str, entries: dict[str, str], names: dict[str, str]) -> list[Any]:
    return [title, *({"color": color, "text": names.get(key, key)} for key, color in entries.items())]


def render_overview_map(
    *,
    units_url: str,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    center: tuple[float, float] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    attribution: str | None = None,
) -> str:
    """Dispatcher console before any input: the published units, fetched from ``units_url``.

    ``center`` is ``(lon, lat)``; ``bounds`` is ``(min_lon, min_lat, max_lon, max_lat)``. With
    neither, the view starts on Bali and fits the units once they have loaded.
    """
    text = labels(lang)
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, center=center, zoom=10,
                   attribution=attribution)
    fmap.add_child(GeoJsonLayer(
        name=text["units"], url=units_url,
        options=_unit_options(lang, UNIT_STYLE, fit_view=center is None and bounds is None),
    ))
    if bounds is not None:
        fit(fmap, bounds)
    elif center is None:
        fit(fmap, BALI_BOUNDS)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def _point_lines(result: dict[str, Any], text: dict[str, str], lang: str, corrected: bool) -> list[Any]:
    lines: list[Any] = [text["point_corrected"] if corrected else text["point"]]
    point = _point(result.get("point"))
    if point is not None:
        lines.append(f"{point[1]:.6f}, {point[0]:.6f}")
    if result.get("status") is not None:
        lines.append([text["status"], label(lang, "location_status", result.get("status"))])
    jurisdiction = result.get("jurisdiction") or {}
    for level in ("polsek", "polres", "polda"):
        if jurisdiction.get(level):
            lines.append([level.capitalize(), name_of(jurisdiction[level])])
    if result.get("match") is not None:
        lines.append([text["match"], label(lang, "match", result.get("match"))])
    if result.get("uncertainty_m") is not None:
        lines.append([text["uncertainty"], "± " + format_distance(float(result["uncertainty_m"]), lang)])
    for candidate in result.get("candidates") or []:
        lines.append([
            text["candidates"],
            f"{name_of(candidate.get('polsek'))} — {text['share']} {format_share(candidate.get('share'))}, "
            f"{format_distance(candidate.get('distance_m'), lang)}",
        ])
    return lines


def _flag_lines(result: dict[str, Any]) -> list[str]:
    out = []
    for flag in result.get("flags") or []:
        if isinstance(flag, dict):
            code, message = flag.get("code"), flag.get("message")
            out.append(f"{code}: {message}" if message else str(code))
        else:
            out.append(str(flag))
    return out


def _screen_bearing_deg(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Clockwise angle from screen-east of the line start -> end on a Web Mercator map."""
    (lon1, lat1), (lon2, lat2) = start, end

    def merc_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(max(min(lat, 85.0), -85.0)) / 2))

    dx = math.radians(lon2 - lon1)
    dy = merc_y(lat2) - merc_y(lat1)
    return math.degrees(math.atan2(-dy, dx))


def _add_incident_point(
    fmap: folium.Map, result: dict[str, Any], lang: str, *, with_original: bool
) -> tuple[float, ...] | None:
    """Original point, corrected point, the arrow between them, the uncertainty circle.

    Returns the box to show: the point and its circle, plus the original when it is within
    ``ORIGINAL_VIEW_MAX_M`` (a sign flip puts it ~1,900 km away; the dashed line then leads
    off-screen and the popup says why). None when the result has no point.
    """
    text = labels(lang)
    point = _point(result.get("point"))
    original = _point(result.get("original"))
    corrected = point is not None and original is not None and point != original
    if point is None:
        fmap.add_child(InfoBox([text["no_point"], *_flag_lines(result)], "topright", "gs-error"))
        return None
    drawn: list[tuple[float, float]] = [point]
    radius_m = result.get("uncertainty_m")
    if radius_m:
        circle = folium.Circle(
            location=latlon(*point), radius=float(radius_m), color=POINT_COLOR, weight=1.5,
            fill=True, fill_color=POINT_COLOR, fill_opacity=0.08,
        )
        add_text(circle, [text["uncertainty"], "± " + format_distance(float(radius_m), lang)], tooltip=False)
        group = folium.FeatureGroup(name=text["uncertainty_layer"])
        group.add_child(circle)
        fmap.add_child(group)
    if with_original and corrected and original is not None:
        shift_m = distance_m(original[0], original[1], point[0], point[1])
        reasons = _flag_lines(result)
        lines: list[Any] = [text["original"], f"{original[1]:.6f}, {original[0]:.6f}",
                            [text["distance"], format_distance(shift_m, lang)]]
        if reasons:
            lines.append(text["reasons"] + ":")
            lines.extend(reasons)
        group = folium.FeatureGroup(name=text["correction"])
        group.add_child(add_text(folium.PolyLine(
            locations=[latlon(*original), latlon(*point)], color=ORIGINAL_COLOR, weight=2,
            dash_array="6 6",
        ), [text["correction"], *reasons], tooltip=False))
        group.add_child(add_text(folium.CircleMarker(
            location=latlon(*original), radius=7, color=ORIGINAL_COLOR, weight=2,
            fill=True, fill_color="#ffffff", fill_opacity=0.9, dash_array="3 3",
        ), lines))
        if shift_m <= ORIGINAL_VIEW_MAX_M:
            # Arrow head half-way along the line, pointing from the original to the corrected point.
            middle = ((original[0] + point[0]) / 2, (original[1] + point[1]) / 2)
            angle = _screen_bearing_deg(original, point)
            group.add_child(folium.Marker(
                location=latlon(*middle),
                icon=folium.DivIcon(
                    html=(f'<div style="transform: rotate({angle:.1f}deg); color: {ORIGINAL_COLOR}; '
                          'font-size: 18px; line-height: 18px; width: 18px; text-align: center;">&#10148;</div>'),
                    icon_size=(18, 18), icon_anchor=(9, 9), class_name="gs-arrow",
                ),
                interactive=False,
            ))
            drawn.append(original)
        fmap.add_child(group)
    marker = folium.Marker(
        location=latlon(*point),
        icon=folium.Icon(color="red", icon="crosshairs", prefix="fa"),
    )
    add_text(marker, _point_lines(result, text, lang, corrected))
    fmap.add_child(marker)
    box = bounds_of_points(drawn, pad_deg=0.002)
    if radius_m and box is not None:
        pad = float(radius_m) / M_PER_DEG
        box = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    return box


def unit_type_words(result: dict[str, Any], lang: str) -> str:
    """The answer's unit types, leaf first ("Polsek Kawasan (special area) · Polresta (city)")."""
    types = result.get("unit_types") or {}
    return " · ".join(label(lang, "unit_type", types[lvl]) for lvl in ("polsek", "polres", "polda") if types.get(lvl))


def set_in_force_words(result: dict[str, Any], lang: str) -> str | None:
    """``Set <id> (in force since <date>)`` from the answer's ``set_in_force`` ({id, since: an ISO
    date}), the date as people read it (``3 Mei 2016`` / ``3 May 2016``); None without one."""
    in_force = result.get("set_in_force")
    if not isinstance(in_force, dict) or in_force.get("id") is None:
        return None
    since = in_force.get("since")
    day = format_date(date.fromisoformat(since), SET_DATE_PATTERN, locale=lang) if since else "?"
    return labels(lang)["set_in_force"].format(id=in_force["id"], date=day)


def _jurisdiction_box(result: dict[str, Any], lang: str) -> list[Any]:
    text = labels(lang)
    jurisdiction = result.get("jurisdiction") or {}
    lines: list[Any] = [text["responsible"] + ": " + name_of(jurisdiction.get("polsek"))]
    if jurisdiction.get("polres"):
        lines.append(["Polres", name_of(jurisdiction.get("polres"))])
    if jurisdiction.get("polda"):
        lines.append(["Polda", name_of(jurisdiction.get("polda"))])
    if unit_type_words(result, lang):
        lines.append([text["unit_type"], unit_type_words(result, lang)])
    special = result.get("special_area")
    if isinstance(special, dict):
        lines.append([text["special_area"], str(special.get("name", "")) + (
            f" ({text['approximate_area']})" if special.get("approximate") else "")])
    if result.get("match") is not None:
        lines.append([text["match"], label(lang, "match", result.get("match"))])
    if result.get("status") is not None:
        lines.append([text["status"], label(lang, "location_status", result.get("status"))])
    if set_in_force_words(result, lang):
        lines.append(set_in_force_words(result, lang))
    return lines


def render_locate_map(
    result: dict[str, Any],
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    units_url: str | None = None,
    unit_geojson: dict[str, Any] | None = None,
    neighbour_geojson: dict[str, Any] | None = None,
    attribution: str | None = None,
    place_geojson: dict[str, Any] | None = None,
) -> str:
    """The answer of ``POST /api/v1/locate`` on a map for the dispatcher.

    Shows the original and corrected points (line between them, reasons in the popup), the
    uncertainty circle, the responsible Polsek (``unit_geojson``, inlined after
    simplification), neighbouring units when ``match == "border"``, the nearest stations with
    distances (sample stations marked), and Fullscreen, MousePosition and the
    layer control. ``units_url`` adds all units as a background layer fetched from the API.
    ``place_geojson`` (a located place name) draws the village polygon where one is bundled.
    """
    text = labels(lang)
    point = _point(result.get("point"))
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, center=point, zoom=14,
                   attribution=attribution)
    if units_url:
        fmap.add_child(GeoJsonLayer(name=text["units"], url=units_url, options=_unit_options(lang, UNIT_STYLE),
                                    show=True))
    boxes: list[tuple[float, ...] | None] = []
    if unit_geojson:
        unit = simplify_geojson(unit_geojson)
        fmap.add_child(GeoJsonLayer(name=text["responsible"], data=unit,
                                    options=_unit_options(lang, RESPONSIBLE_STYLE)))
        boxes.append(geojson_bounds(unit))
    if neighbour_geojson and result.get("match") == "border":
        neighbours = simplify_geojson(neighbour_geojson)
        fmap.add_child(GeoJsonLayer(name=text["neighbours"], data=neighbours,
                                    options=_unit_options(lang, NEIGHBOUR_STYLE)))
    if place_geojson:
        area = simplify_geojson(place_geojson)
        fmap.add_child(GeoJsonLayer(name=text.get("place", "Desa/Kelurahan"), data=area,
                                    options=_unit_options(lang, PLACE_STYLE)))
        boxes.append(geojson_bounds(area))
    stations = [s for s in result.get("stations") or [] if _point(s) is not None]
    if stations:
        group = folium.FeatureGroup(name=text["stations"])
        for station in stations:
            lonlat = _point(station)
            assert lonlat is not None
            sample = bool(station.get("sample"))
            lines: list[Any] = [name_of(station.get("name"))]
            if sample:
                lines.append(text["sample"])
            lines.append([text["distance"], format_distance(station.get("distance_m"), lang)])
            if station.get("code"):
                lines.append([text["code"], station.get("code")])
            if station.get("unit_code"):
                lines.append(["Polsek", station.get("unit_code")])
            marker = folium.Marker(
                location=latlon(*lonlat),
                icon=folium.Icon(
                    color="orange" if sample else "darkblue",
                    icon="building-shield" if not sample else "flask",
                    prefix="fa",
                ),
            )
            add_text(marker, lines)
            group.add_child(marker)
            if point is not None:
                link = folium.PolyLine(
                    locations=[latlon(*point), latlon(*lonlat)],
                    color=SAMPLE_STATION_COLOR if sample else STATION_COLOR, weight=1, opacity=0.6,
                    dash_array="2 6",
                )
                add_text(link, [lines[0], format_distance(station.get("distance_m"), lang)], tooltip=True)
                group.add_child(link)
        fmap.add_child(group)
        if any(s.get("sample") for s in stations):
            fmap.add_child(InfoBox([text["sample"]], "bottomleft", "gs-sample"))
    boxes.append(_add_incident_point(fmap, result, lang, with_original=True))
    if result.get("jurisdiction"):
        fmap.add_child(InfoBox(_jurisdiction_box(result, lang), "topright"))
    # View: the point with its circle, the responsible unit and the nearest stations.
    boxes.append(bounds_of_points([lonlat for s in stations if (lonlat := _point(s)) is not None],
                                  pad_deg=0.002))
    fit(fmap, union_bounds(*boxes) or BALI_BOUNDS)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def render_officer_map(
    result: dict[str, Any],
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    unit_geojson: dict[str, Any] | None = None,
    attribution: str | None = None,
) -> str:
    """Phone-sized map for the officer: corrected point, uncertainty circle, responsible unit."""
    text = labels(lang)
    point = _point(result.get("point"))
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, center=point, zoom=15,
                   attribution=attribution, controls=False)
    unit_box = None
    if unit_geojson:
        unit = simplify_geojson(unit_geojson)
        fmap.add_child(GeoJsonLayer(name=text["responsible"], data=unit,
                                    options=_unit_options(lang, RESPONSIBLE_STYLE)))
        unit_box = geojson_bounds(unit)
    box = _add_incident_point(fmap, result, lang, with_original=False)
    polsek = (result.get("jurisdiction") or {}).get("polsek")
    if polsek:
        fmap.add_child(InfoBox([name_of(polsek), text["responsible"],
                                *filter(None, [unit_type_words(result, lang), set_in_force_words(result, lang)])],
                               "bottomleft"))
    fit(fmap, box or unit_box or BALI_BOUNDS, max_zoom=17)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def render_problems_map(
    report_items: list[dict[str, Any]],
    *,
    units_url: str | None = None,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    problem_geojson: dict[str, Any] | None = None,
    attribution: str | None = None,
) -> str:
    """Admin check report: overlaps and gaps in red, repaired geometries, children outside parents.

    ``problem_geojson`` is a FeatureCollection with properties ``code``, ``severity``,
    ``message`` (optionally ``unit_code``); ``report_items`` are the report's findings
    (``code``, ``severity``, ``message``, optionally ``lon``/``lat`` or ``point``), drawn as
    points when they carry a location and counted in the summary box.
    """
    text = labels(lang)
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, zoom=10, attribution=attribution)
    if units_url:
        fmap.add_child(GeoJsonLayer(name=text["units"], url=units_url, options=_unit_options(lang, UNIT_STYLE)))
    boxes: list[tuple[float, ...] | None] = []
    if problem_geojson:
        problems = simplify_geojson(problem_geojson, tolerance_deg=0.0)
        styles = {key: {"color": color, "fillColor": color} for key, color in SEVERITY_COLORS.items()}
        styles["repaired"]["dashArray"] = "5 4"
        fmap.add_child(GeoJsonLayer(
            name=text["problems"], data=problems,
            options={
                "style": {"weight": 2, "fillOpacity": 0.35, "color": SEVERITY_COLORS["error"],
                          "fillColor": SEVERITY_COLORS["error"]},
                "styleField": "severity",
                "styles": styles,
                "titleField": "message",
                "fields": [["code", text["code"]], ["severity", text["severity"]],
                           ["unit_code", "Unit"]],
                "valueLabels": {"severity": enum_labels(lang, "severity")},
                "popup": True,
            },
        ))
        boxes.append(geojson_bounds(problems))
    points = []
    for item in report_items:
        lonlat = _point(item.get("point")) or _point(item)
        if lonlat is None:
            continue
        severity = str(item.get("severity") or "error")
        lines: list[Any] = [str(item.get("message") or item.get("code") or "—")]
        lines.append([text["code"], item.get("code")])
        lines.append([text["severity"], label(lang, "severity", severity)])
        if item.get("unit_code"):
            lines.append(["Unit", item.get("unit_code")])
        points.append(point_entry(*lonlat, color=SEVERITY_COLORS.get(severity, "#d7191c"), lines=lines))
    if points:
        group = folium.FeatureGroup(name=text["problem_points"])
        group.add_child(PointSet(points))
        fmap.add_child(group)
        boxes.append(bounds_of_points((p["latlng"][1], p["latlng"][0]) for p in points))
    counts = Counter(str(item.get("severity") or "error") for item in report_items)
    summary: list[Any] = [f"{text['report']}: {len(report_items)} {text['items']}"]
    for severity, color in SEVERITY_COLORS.items():
        if counts.get(severity):
            summary.append({"color": color, "text": label(lang, "severity", severity) + f": {counts[severity]}"})
    fmap.add_child(InfoBox(summary, "bottomleft"))
    fit(fmap, union_bounds(*boxes) or BALI_BOUNDS)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def render_diff_map(
    diff_geojson: dict[str, Any],
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    attribution: str | None = None,
) -> str:
    """Changed units between two boundary versions, coloured by change type.

    Features carry ``code``, ``name`` and ``change`` (or ``change_type``): one of
    ``added``, ``removed``, ``geometry_changed``, ``renamed``, ``reparented``, ``changed``,
    ``unchanged``.
    """
    text = labels(lang)
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, zoom=10, attribution=attribution)
    diff = simplify_geojson(diff_geojson)
    for feature in diff["features"]:
        props = feature["properties"]
        if "change" not in props and "change_type" in props:
            props["change"] = props["change_type"]
    styles: dict[str, dict[str, Any]] = {
        key: {"color": color, "fillColor": color} for key, color in CHANGE_COLORS.items()
    }
    styles["removed"]["dashArray"] = "6 4"
    styles["unchanged"]["fillOpacity"] = 0.05
    fmap.add_child(GeoJsonLayer(
        name=text["diff"], data=diff,
        options={
            "style": {"weight": 2, "fillOpacity": 0.3},
            "styleField": "change",
            "styles": {**styles, "_default": {"color": CHANGE_COLORS["changed"],
                                              "fillColor": CHANGE_COLORS["changed"]}},
            "titleField": "name",
            "fields": [["change", text["change"]], ["code", text["code"]],
                       ["parent_code", text["parent_code"]]],
            "valueLabels": {"change": enum_labels(lang, "change")},
            "popup": True,
        },
    ))
    present = {str(f["properties"].get("change")) for f in diff["features"]}
    legend = {k: v for k, v in CHANGE_COLORS.items() if k in present} or CHANGE_COLORS
    fmap.add_child(InfoBox(_legend(text["legend"], legend, enum_labels(lang, "change")), "bottomleft"))
    fit(fmap, geojson_bounds(diff) or BALI_BOUNDS)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def render_incidents_map(
    incidents: list[dict[str, Any]],
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
    heat: bool = False,
    attribution: str | None = None,
) -> str:
    """Incidents clustered (MarkerCluster), coloured by status; with ``heat``, a HeatMap layer too.

    Each incident is ``{"id","lat","lon","status","category","reported_at"}``.
    """
    text = labels(lang)
    status_labels = enum_labels(lang, "incident_status")
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, zoom=10, attribution=attribution)
    points = []
    lonlats: list[tuple[float, float]] = []
    for incident in incidents:
        lonlat = _point(incident)
        if lonlat is None:
            continue
        status = str(incident.get("status") or "")
        lines: list[Any] = [f"{text['incidents']} {incident.get('id', '')}".strip()]
        lines.append([text["status"], status_labels.get(status, status)])
        if incident.get("category"):
            lines.append([text["category"], label(lang, "category", incident.get("category"))])
        if incident.get("reported_at"):
            lines.append([text["reported_at"], format_local_time(incident.get("reported_at"), lang)])
        points.append(point_entry(*lonlat, color=INCIDENT_COLORS.get(status, "#3388ff"), lines=lines,
                                  rank=INCIDENT_URGENCY.get(status, 0)))
        lonlats.append(lonlat)
    cluster = plugins.MarkerCluster(
        name=text["incidents"], options={"maxClusterRadius": 50},
        icon_create_function="GeoServiceMaps.clusterIcon",
    )
    cluster.add_child(PointSet(points))
    fmap.add_child(cluster)
    if heat and lonlats:
        plugins.HeatMap(
            [[*latlon(lon, lat), 1.0] for lon, lat in lonlats],
            name=text["heat"], radius=18, blur=15, min_opacity=0.3,
        ).add_to(fmap)
    fmap.add_child(InfoBox([*_legend(text["legend"], INCIDENT_COLORS, status_labels), text["cluster_note"]],
                           "bottomleft"))
    fit(fmap, bounds_of_points(lonlats, pad_deg=0.01) or BALI_BOUNDS)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)
