"""Folium map pages rendered to HTML strings, with every asset served from our own ``maps/``.

No Flask here: the web layer calls these functions with plain dicts and serves the top-level
``maps/`` folder under ``assets_url`` (default ``/maps/``).
"""

from geo_service.maps.assets import (
    ASSETS_DIR,
    DEFAULT_ASSETS_URL,
    asset_manifest,
    external_urls,
    localize_html,
    referenced_assets,
)
from geo_service.maps.base import DEFAULT_TILE_URL, OSM_ATTRIBUTION
from geo_service.maps.render import (
    render_diff_map,
    render_incidents_map,
    render_locate_map,
    render_officer_map,
    render_overview_map,
    render_problems_map,
)

__all__ = [
    "ASSETS_DIR",
    "DEFAULT_ASSETS_URL",
    "DEFAULT_TILE_URL",
    "OSM_ATTRIBUTION",
    "asset_manifest",
    "external_urls",
    "localize_html",
    "referenced_assets",
    "render_diff_map",
    "render_incidents_map",
    "render_locate_map",
    "render_officer_map",
    "render_overview_map",
    "render_problems_map",
]
