"""GET /basemap/<z>/<x>/<y>.json on the bundled Bali set: public, gzipped, cached, small (issue 17)."""

from __future__ import annotations

import gzip
import json
from typing import Any

from geo_service.geo.basemap import tile_of


def _get(client: Any, z: int, lon: float = 115.2, lat: float = -8.6, **headers: str) -> Any:
    x, y = tile_of(lon, lat, z)
    return client.get(f"/basemap/{z}/{x}/{y}.json", headers=headers)


def _body(r: Any) -> dict[str, Any]:
    raw = r.get_data()
    return json.loads(gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw)


def test_tiles_are_public_gzipped_and_name_the_units(client: Any) -> None:
    r = _get(client, 11, 115.17, -8.72, **{"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"].startswith("public") and r.headers["ETag"]
    tile = _body(r)
    assert {"polda", "polres", "polsek"} <= set(tile["lines"])
    assert "Polsek Kuta" in {label[2] for label in tile["labels"]}
    assert tile["land"]
    assert len(r.get_data()) < 60_000


def test_plain_json_without_gzip_and_villages_when_zoomed_in(client: Any) -> None:
    r = _get(client, 14, 115.17, -8.72)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    tile = _body(r)
    assert "desa" in tile["lines"] and tile["labels"]


def test_an_unchanged_tile_is_not_sent_again(client: Any) -> None:
    first = _get(client, 9)
    again = _get(client, 9, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()


def test_a_tile_that_cannot_exist_is_a_problem(client: Any) -> None:
    r = client.get("/basemap/25/0/0.json")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert client.get("/basemap/3/8/0.json").status_code == 404


def test_an_empty_ocean_tile_is_tiny(client: Any) -> None:
    r = _get(client, 10, 60.0, -30.0)
    assert r.status_code == 200 and _body(r) == {"land": [], "lines": {}, "labels": []}
