"""The national (or Polda) choropleth of the 110 answer rate (issue 16), rendered to an HTML string.

Takes the GeoJSON built by ``services.calls.answer_rate_features`` (properties ``code``, ``name``,
``offered``, ``not_answered``, ``answer_rate`` text and ``band``); no Flask here.
"""

from __future__ import annotations

from typing import Any

import folium

from geo_service.maps.assets import DEFAULT_ASSETS_URL
from geo_service.maps.base import (
    DEFAULT_TILE_URL,
    GeoJsonLayer,
    InfoBox,
    finish,
    fit,
    geojson_bounds,
    new_map,
    simplify_geojson,
)

BAND_COLORS = {"lt50": "#cc0000", "50_80": "#e69138", "80_90": "#f1c232", "ge90": "#38761d", "none": "#999999"}
BAND_LABELS = {
    "id": {"lt50": "< 50 % dijawab", "50_80": "50–80 %", "80_90": "80–90 %", "ge90": "≥ 90 %",
           "none": "tidak ada panggilan"},
    "en": {"lt50": "< 50 % answered", "50_80": "50–80 %", "80_90": "80–90 %", "ge90": "≥ 90 %", "none": "no calls"},
}
FIELDS = {
    "id": [["code", "Kode"], ["answer_rate", "Tingkat jawab"], ["offered", "Panggilan"],
           ["not_answered", "Tidak dijawab"]],
    "en": [["code", "Code"], ["answer_rate", "Answer rate"], ["offered", "Calls"], ["not_answered", "Not answered"]],
}


def render_answer_rate_map(
    features: dict[str, Any],
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
) -> str:
    """Units coloured by the share of 110 calls they answered (red under 50 %), with a legend."""
    lang = "en" if lang == "en" else "id"
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, zoom=5)
    data = simplify_geojson(features, tolerance_deg=0.0)
    styles = {band: {"color": "#333333", "weight": 1, "fillColor": color, "fillOpacity": 0.65}
              for band, color in BAND_COLORS.items()}
    title = "Tingkat jawab 110" if lang == "id" else "110 answer rate"
    fmap.add_child(GeoJsonLayer(name=title, data=data, options={
        "style": {"weight": 1}, "styleField": "band", "styles": styles, "titleField": "name",
        "fields": FIELDS[lang], "popup": True, "fit": False, "errorText": title}))
    legend = [title, *({"color": BAND_COLORS[b], "text": BAND_LABELS[lang][b]} for b in BAND_COLORS)]
    fmap.add_child(InfoBox(legend, "bottomleft"))
    fit(fmap, geojson_bounds(data) or (94.9, -11.0, 141.1, 6.1), max_zoom=9)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)
