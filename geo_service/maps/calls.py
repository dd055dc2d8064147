"""The two choropleths of the 110 review (issue 16), rendered to HTML strings: units by answer rate and units
by response-time compliance (share of incidents on scene within target).

Both take the GeoJSON built by ``services.calls.child_map_features`` (properties ``code``, ``name``,
``offered``, ``not_answered``, ``answer_rate`` text and its ``band``; ``on_scene``, ``within_target``,
``within_target_share`` text and its ``target_band``), share the colour bands and the legend style, and
read their words from the gettext catalogs; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from geo_service.translations import N_, gettext

#: Colour per band of a share (``services.calls.share_band``): red under half, green from 90 %.
BAND_COLORS = {"lt50": "#cc0000", "50_80": "#e69138", "80_90": "#f1c232", "ge90": "#38761d", "none": "#999999"}
#: Band texts that are figures only (the same in every language).
_FIGURE_BANDS = {"50_80": "50–80 %", "80_90": "80–90 %", "ge90": "≥ 90 %"}
INDONESIA_BOUNDS = (94.9, -11.0, 141.1, 6.1)


@dataclass(frozen=True)
class Choropleth:
    """What differs between the two maps: the title, the property holding the band, the words of the two
    bands that are not figures, and the popup fields (``[property, message id]``)."""

    title: str
    band_field: str
    below_half: str
    no_data: str
    fields: tuple[tuple[str, str], ...]


ANSWER_RATE = Choropleth(
    title=N_("110 answer rate"), band_field="band", below_half=N_("< 50 % answered"), no_data=N_("no calls"),
    fields=(("code", N_("Code")), ("answer_rate", N_("Answer rate")), ("offered", N_("Calls")),
            ("not_answered", N_("Not answered"))))
RESPONSE = Choropleth(
    title=N_("On scene within target"), band_field="target_band", below_half=N_("< 50 % within target"),
    no_data=N_("no arrivals on scene"),
    fields=(("code", N_("Code")), ("within_target_share", N_("Share within target")),
            ("within_target", N_("Arrivals within target")), ("on_scene", N_("Arrivals on scene"))))


def render_choropleth(
    features: dict[str, Any],
    kind: Choropleth,
    *,
    tile_url: str | None = DEFAULT_TILE_URL,
    assets_url: str = DEFAULT_ASSETS_URL,
    lang: str = "id",
) -> str:
    """Units coloured by one of the review's shares (red under 50 %), with a legend in ``lang``."""
    lang = "en" if lang == "en" else "id"
    fmap = new_map(tile_url=tile_url, assets_url=assets_url, lang=lang, zoom=5)
    data = simplify_geojson(features, tolerance_deg=0.0)
    styles = {band: {"color": "#333333", "weight": 1, "fillColor": color, "fillOpacity": 0.65}
              for band, color in BAND_COLORS.items()}
    title = gettext(lang, kind.title)
    fmap.add_child(GeoJsonLayer(name=title, data=data, options={
        "style": {"weight": 1}, "styleField": kind.band_field, "styles": styles, "titleField": "name",
        "fields": [[prop, gettext(lang, msgid)] for prop, msgid in kind.fields], "popup": True, "fit": False,
        "errorText": title}))
    words = {**_FIGURE_BANDS, "lt50": gettext(lang, kind.below_half), "none": gettext(lang, kind.no_data)}
    fmap.add_child(InfoBox([title, *({"color": BAND_COLORS[b], "text": words[b]} for b in BAND_COLORS)],
                           "bottomleft"))
    fit(fmap, geojson_bounds(data) or INDONESIA_BOUNDS, max_zoom=9)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return finish(fmap, tile_url=tile_url, assets_url=assets_url, lang=lang)


def render_answer_rate_map(features: dict[str, Any], **kwargs: Any) -> str:
    """Units coloured by the share of 110 calls they answered."""
    return render_choropleth(features, ANSWER_RATE, **kwargs)


def render_response_map(features: dict[str, Any], **kwargs: Any) -> str:
    """Units coloured by the share of their incidents on scene within the quick-response target."""
    return render_choropleth(features, RESPONSE, **kwargs)
