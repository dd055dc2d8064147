"""The offline reference map's tiles: ``GET /basemap/<z>/<x>/<y>.json`` (public, cached)."""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, request

from geo_service.errors import NotFound
from geo_service.geo.basemap import valid_tile
from geo_service.services.basemap import TILES
from geo_service.web.auth import public
from geo_service.web.context import index

bp = Blueprint("basemap", __name__)


@bp.get("/basemap/<int:z>/<int:x>/<int:y>.json")
@public
def tile(z: int, x: int, y: int) -> Response:
    """One tile of unit outlines and names in tile pixels (public: the published set only, as the maps
    of every page, the officer's included, draw it without a login)."""
    if not valid_tile(z, x, y):
        raise NotFound("no such tile", code="TILE_NOT_FOUND")
    idx = index()
    etag = f"b{idx.set_id}-{z}-{x}-{y}"
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
    else:
        packed = TILES.tile_gzip(idx, z, x, y)
        if "gzip" in request.accept_encodings:
            resp = Response(packed, mimetype="application/json")
            resp.headers["Content-Encoding"] = "gzip"
        else:
            resp = Response(gzip.decompress(packed), mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Vary"] = "Accept-Encoding"
    # A publish changes the ETag; browsers revalidate after five minutes.
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
