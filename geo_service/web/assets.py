"""Serves the map assets of the top-level ``maps/`` folder under ``/maps/`` (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from geo_service.web.auth import public
from geo_service.web.compress import asset_response

bp = Blueprint("assets", __name__)
MAPS_DIR = Path(__file__).resolve().parents[2] / "maps"
#: Folders vendored for the tests only (axe-core, tests/web/test_accessibility.py): never sent to browsers.
TEST_ONLY_PREFIX = "axe-core-"


@bp.get("/maps/<path:filename>")
@public
def map_asset(filename: str) -> Response:
    """One asset file; send_from_directory refuses paths outside the folder."""
    path = safe_join(str(MAPS_DIR), filename)
    if path and Path(path).relative_to(MAPS_DIR).as_posix().startswith(TEST_ONLY_PREFIX):
        raise NotFound()
    resp = send_from_directory(MAPS_DIR, filename, max_age=86400)
    return asset_response(Path(path), resp) if path else resp
