"""Police units derived from the bundled administrative boundaries (Bali).

The bundled set is *derived from administrative areas*: Polda = province, Polres = one per
kabupaten/kota, Polsek = one per kecamatan. Real police jurisdictions differ (airport and
port units, a Polsek covering two kecamatan) and are loaded by admins.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import shape

from geo_service.geo.area import Unit

#: Folder of the bundled boundaries (repository top level ``boundaries/``).
BOUNDARIES_DIR = Path(__file__).resolve().parents[2] / "boundaries"

PROVINCE_NAMES = {"51": "Bali"}


def polres_name(kab_name: str) -> str:
    """Name of the Polres for a kabupaten/kota name as in the source.

    >>> polres_name("Kabupaten Jembrana"), polres_name("Kota Denpasar")
    ('Polres Jembrana', 'Polresta Denpasar')
    """
    if kab_name.startswith("Kota "):
        return "Polresta " + kab_name[len("Kota "):]
    if kab_name.startswith("Kabupaten "):
        return "Polres " + kab_name[len("Kabupaten "):]
    return "Polres " + kab_name


def load_bali_units(directory: Path = BOUNDARIES_DIR) -> list[Unit]:
    """Read the bundled Bali files and return 1 Polda, 9 Polres and 57 Polsek units.

    >>> units = load_bali_units()
    >>> len(units), units[0].code, units[0].name
    (67, '51', 'Polda Bali')
    """
    kab = json.loads((directory / "bali_kabupaten_kota.geojson").read_text(encoding="utf-8"))
    kec = json.loads((directory / "bali_kecamatan.geojson").read_text(encoding="utf-8"))
    polres = [
        Unit(
            code=f["properties"]["kode"],
            name=polres_name(f["properties"]["nama"]),
            level="polres",
            parent_code=f["properties"]["kode"].split(".")[0],
            geometry=shape(f["geometry"]),
        )
        for f in kab["features"]
    ]
    polsek = [
        Unit(
            code=f["properties"]["kode"],
            name="Polsek " + f["properties"]["nama"],
            level="polsek",
            parent_code=f["properties"]["kode_kab"],
            geometry=shape(f["geometry"]),
        )
        for f in kec["features"]
    ]
    province = polres[0].parent_code or "51"
    polda = Unit(
        code=province,
        name="Polda " + PROVINCE_NAMES.get(province, province),
        level="polda",
        parent_code=None,
        geometry=shapely.union_all([u.geometry for u in polres], grid_size=1e-6),
    )
    return [polda, *sorted(polres, key=lambda u: u.code), *sorted(polsek, key=lambda u: u.code)]
