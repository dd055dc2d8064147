"""`geo-service places load/search/build` on a temporary data dir."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from geo_service.services.places import PLACES_FILE, read_places_file, write_places_file
from tests.test_cli_boundaries import geo  # noqa: F401 - the CLI fixture

BALER = "51.01.01.1006"
KEEP = (BALER, "51.01.01.2001", "51.01.01", "51.01", "51")


def test_load_replaces_and_search_reads_what_people_type(geo: Callable[..., tuple[int, str, str]],  # noqa: F811
                                                         tmp_path: Path) -> None:
    subset = [p for p in read_places_file() if p.code in KEEP]
    small = tmp_path / "places.csv.gz"
    write_places_file(subset, small)
    assert geo("db", "upgrade")[0] == 0
    for _ in range(2):  # loading twice replaces, never duplicates
        status, out, err = geo("places", "load", "--file", str(small))
        assert status == 0, err
        assert out.startswith(f"places: {len(KEEP)} loaded")
    status, out, _err = geo("places", "search", "Ds. Baler Bale Agug, Kec. Negara", "--limit", "3")
    assert status == 0
    first = json.loads(out.splitlines()[0])
    assert first["code"] == BALER and first["match"] == "fuzzy"
    assert first["label"] == "Baler Bale Agung, Negara, Kabupaten Jembrana"


def test_build_reproduces_the_shipped_rows(geo: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:  # noqa: F811
    shipped = {p.code: p for p in read_places_file(PLACES_FILE)}
    desa = tmp_path / "indonesia_desa.csv"  # the source's columns (see boundaries/SOURCES.md)
    with desa.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kode", "nama", "kecamatan", "kabupaten_kota", "provinsi", "lat", "lon", "area_km2", "radius_m"])
        for code in (BALER, "51.01.01.2001"):
            p = shipped[code]
            names = [n for _k, _c, n in p.parents]
            w.writerow([p.code, p.name, *names, f"{p.lat:.6f}", f"{p.lon:.6f}", "1.0", f"{p.radius_m:.0f}"])
    out = tmp_path / "built.csv.gz"
    status, stdout, err = geo("places", "build", "--desa", str(desa), "-o", str(out))
    assert status == 0, err
    built = {p.code: p for p in read_places_file(out)}
    assert stdout.startswith(f"places: {len(built)} written")
    assert len(built) == 2 + 7_285 + 514 + 38
    for code in KEEP:
        assert built[code] == shipped[code]
    # every area place of the shipped file is rebuilt identically
    assert all(built[c] == p for c, p in shipped.items() if p.kind not in ("desa", "kelurahan"))
