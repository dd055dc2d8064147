"""Field guessing: which attributes of a read layer hold the unit code, name and parent code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from geo_service.geo.boundary_files.reading import RawLayer


@dataclass(frozen=True)
class FieldGuess:
    """Attribute names guessed for code, name and parent code (None when no guess)."""

    code_field: str | None
    name_field: str | None
    parent_field: str | None


_CODE_NAMES = ("unit_code", "kode_unit", "code", "kode", "kd", "id_unit", "kode_wilayah", "kdcpum",
               "kdepum", "kdpkab", "kdppum", "kode_kec", "kode_kab", "kode_prov")
_CODE_PREFIXES = ("kode", "kd_", "kd", "code", "id_")
_NAME_NAMES = ("unit_name", "nama_unit", "name", "nama", "namobj", "wadmkd", "wadmkc", "wadmkk", "wadmpr",
               "nm", "nama_kec", "nama_kab", "nama_prov", "label", "title")
_NAME_PREFIXES = ("nama", "nm_", "name", "wadm")
_PARENT_NAMES = ("parent_code", "parent", "kode_induk", "induk", "parent_id", "kode_kec", "kd_kec", "kdcpum",
                 "kode_kab", "kd_kab", "kdpkab", "kode_prov", "kd_prov", "kd_prop", "kode_prop", "kdppum")


def _ordered_candidates(fields: Sequence[str], names: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    lower = {f.lower(): f for f in fields}
    out = [lower[n] for n in names if n in lower]
    out += [f for f in fields if f not in out and f.lower().startswith(tuple(prefixes))]
    return out


def _text_values(gdf: gpd.GeoDataFrame, col: str) -> list[str]:
    return [as_text(v) or "" for v in gdf[col].tolist()]


def guess_fields(raw: RawLayer) -> FieldGuess:
    """Guess which attributes hold the unit code, name and parent code, for the admin to confirm.

    The code is the first candidate (``unit_code``, ``code``, ``kode``, ``kd_*``, BIG's
    ``KDCPUM``...) whose values are all present and unique; the name the first of ``nama``,
    ``name``, ``NAMOBJ``, ``WADMKC``...; the parent the most specific of ``parent_code``,
    ``kode_kec``, ``kode_kab``, ``kode_prov``... other than the code. For KML the name is
    ``Name`` and the code, if no code attribute exists, is ``description`` when it holds
    short unique values, else ``Name``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"kode": ["51.01"], "nama": ["Jembrana"], "kode_prov": ["51"]},
    ...                        geometry=[box(114.4, -8.5, 114.9, -8.1)], crs=4326)
    >>> guess_fields(RawLayer(gdf, "EPSG:4326", "geojson", ["kode", "nama", "kode_prov"]))
    FieldGuess(code_field='kode', name_field='nama', parent_field='kode_prov')
    """
    fields = list(raw.fields)
    gdf = raw.gdf
    code_field = None
    candidates = _ordered_candidates(fields, _CODE_NAMES, _CODE_PREFIXES)
    for c in candidates:
        vals = _text_values(gdf, c)
        if vals and all(vals) and len(set(vals)) == len(vals):
            code_field = c
            break
    if code_field is None and candidates and not raw.format.startswith("km"):
        code_field = candidates[0]
    name_candidates = _ordered_candidates(fields, _NAME_NAMES, _NAME_PREFIXES)
    name_field = next((c for c in name_candidates if any(_text_values(gdf, c))), None)
    if raw.format in ("kml", "kmz"):
        lower = {f.lower(): f for f in fields}
        kml_name = lower.get("name")
        if kml_name and any(_text_values(gdf, kml_name)):
            name_field = kml_name
        if code_field is None:
            desc = lower.get("description")
            vals = _text_values(gdf, desc) if desc else []
            short = vals and all(v and len(v) <= 40 and "<" not in v for v in vals) and len(set(vals)) == len(vals)
            code_field = desc if short else name_field
    parent_field = None
    code_vals = set(_text_values(gdf, code_field)) if code_field else set()
    for c in _ordered_candidates(fields, _PARENT_NAMES, ()):
        if c == code_field:
            continue
        vals = [v for v in _text_values(gdf, c) if v]
        # A parent column repeats values and differs from the codes themselves.
        if vals and not set(vals) <= code_vals:
            parent_field = c
            break
    return FieldGuess(code_field, name_field, parent_field)


def as_text(value: Any) -> str | None:
    """Attribute value as stripped text (integral floats lose their ``.0``); None when blank."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, np.generic):
        return as_text(value.item())
    text = str(value).strip()
    return text or None
