"""The reviewed Polri structure (``boundaries/police_structure.csv``) turned into boundary sets.

The structure file says which administrative areas make each police unit and since when.
It is turned into the product's own **mapping CSV** (``unit_code, unit_name, level,
parent_code, area_code``) and dissolved by :func:`geo.boundary_files.units_from_mapping`,
the same path an admin uses when uploading a mapping table, so a corrected row can be
re-published the same way.

Rules (documented in ``boundaries/SOURCES.md``):

* ``areas`` lists Kemendagri codes (province ``36``, regency ``36.03`` or kecamatan
  ``36.03.01``) separated by ``;``; a code prefixed with ``-`` is an exception (taken out);
  ``@special:<code>`` names a polygon in ``boundaries/special_areas.geojson``; ``*`` (Mabes)
  means everything.
* A row is in force on day ``d`` when ``effective_from <= d < effective_to`` (empty = open).
* Units the file does not list are **derived** one-to-one: every regency not claimed by a
  listed Polres becomes ``Polres X`` / ``Polresta X`` (kota) under the Polda that holds its
  kecamatan; every kecamatan not claimed by a listed Polsek becomes ``Polsek X`` under the
  Polres that holds it.
* **Mabes Polri** (code ``MABES``, level ``mabes``) is the root above every Polda. A stored set
  has no polygon for it: Polda rows name ``MABES`` as parent in the file and are stored with no
  parent; :data:`MABES` is the one shared value for answers and reports.
* **Special areas** (airport, port, sea sectors: ``Kawasan``) are overlays: the set is built
  with the special polygon cut out of every unit that is not its ancestor, so the special unit
  wins over the ordinary sector beneath it, the index needs no second rule and the checks see
  no overlap (reported as info ``SPECIAL_AREA_OVERLAY``).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo_service.errors import InvalidInput
from geo_service.geo import boundary_files, checks
from geo_service.geo.area import LEVELS, Unit
from geo_service.geo.bundled import BOUNDARIES_DIR, polres_name
from geo_service.geo.geometry import polygonal_part

STRUCTURE_FILE = BOUNDARIES_DIR / "police_structure.csv"
SPECIAL_AREAS_FILE = BOUNDARIES_DIR / "special_areas.geojson"
MABES_CODE = "MABES"
#: The first day the file describes (the Tangerang handover to Polda Banten, 3 May 2016).
STRUCTURE_START = date(2016, 5, 3)
#: Structure dates are Indonesian calendar days; a day starts at 00:00 WIB (Jakarta, Mabes Polri).
WIB = timezone(timedelta(hours=7))
#: The national root (contract with the 110 call reports): code, level, name.
MABES = {"code": MABES_CODE, "level": "mabes", "name": "Mabes Polri"}
#: Unit types by name prefix, longest first (a name must start with the prefix of its type).
TYPE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("polres_kawasan", "Polres Kawasan "), ("polsek_kawasan", "Polsek Kawasan "), ("polres_metro", "Polres Metro "),
    ("polrestabes", "Polrestabes "), ("polresta", "Polresta "), ("polres", "Polres "), ("polsek", "Polsek "),
    ("polda", "Polda "), ("mabes", "Mabes "),
)
TYPE_LEVEL = {"polres_kawasan": "polres", "polsek_kawasan": "polsek", "polres_metro": "polres",
              "polrestabes": "polres", "polresta": "polres", "polres": "polres", "polsek": "polsek",
              "polda": "polda", "mabes": "mabes"}


@lru_cache(maxsize=16384)
def unit_type(name: str) -> str:
    """The unit type its name carries (cached: every locate answer asks it for its three units).

    >>> unit_type("Polresta Denpasar"), unit_type("Polsek Kawasan Laut Benoa"), unit_type("Polres Metro Bekasi")
    ('polresta', 'polsek_kawasan', 'polres_metro')
    """
    for kind, prefix in TYPE_PREFIXES:
        if name.startswith(prefix):
            return kind
    return "unknown"


@dataclass(frozen=True)
class StructureRow:
    """One row of the structure file."""

    code: str
    name: str
    unit_type: str
    level: str
    parent_code: str | None
    areas: tuple[str, ...]
    effective_from: date | None
    effective_to: date | None
    status: str
    source_url: str
    source_date: str
    note: str

    def in_force(self, on: date) -> bool:
        """True on a day when the row applies."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on < self.effective_to)


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def read_structure(path: Path = STRUCTURE_FILE) -> list[StructureRow]:
    """Read the structure file."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [StructureRow(
            code=r["unit_code"].strip(), name=r["unit_name"].strip(), unit_type=r["unit_type"].strip(),
            level=r["level"].strip(), parent_code=r["parent_code"].strip() or None,
            areas=tuple(a.strip() for a in r["areas"].split(";") if a.strip()),
            effective_from=_date(r["effective_from"]), effective_to=_date(r["effective_to"]),
            status=r["status"].strip(), source_url=r["source_url"].strip(), source_date=r["source_date"].strip(),
            note=r["note"].strip()) for r in csv.DictReader(fh)]


def change_dates(rows: Iterable[StructureRow]) -> list[date]:
    """The days on which the structure changes (each starts a new dated set)."""
    return sorted({d for r in rows for d in (r.effective_from, r.effective_to) if d is not None})


def effective_day(on: date, rows: Iterable[StructureRow] | None = None) -> date:
    """The first day of the structure version in force on ``on``.

    >>> effective_day(date(2025, 6, 1)), effective_day(date(2024, 6, 1))
    (datetime.date(2024, 11, 11), datetime.date(2022, 2, 10))
    """
    days = [d for d in change_dates(rows if rows is not None else read_structure()) if d <= on]
    return max([STRUCTURE_START, *days])


def day_start(day: date) -> datetime:
    """00:00 WIB of a structure day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=WIB)


def rows_in_force(rows: Iterable[StructureRow], on: date) -> list[StructureRow]:
    """The rows in force on ``on``; a code in force twice is an error."""
    out = [r for r in rows if r.in_force(on)]
    seen: set[str] = set()
    for r in out:
        if r.code in seen:
            raise InvalidInput(f"unit {r.code} has two rows in force on {on}", code="STRUCTURE_DATES_OVERLAP")
        seen.add(r.code)
    return out


@dataclass
class AdminAreas:
    """Administrative polygons by Kemendagri code: kecamatan, regencies, provinces (names too)."""

    kecamatan: dict[str, tuple[str, BaseGeometry]]
    regencies: dict[str, tuple[str, BaseGeometry]]
    provinces: dict[str, tuple[str, BaseGeometry]]

    def __post_init__(self) -> None:
        self._inside: dict[str, frozenset[str]] | None = None

    def expand(self, code: str) -> frozenset[str]:
        """The kecamatan codes inside an area code (itself for a kecamatan)."""
        if code in self.kecamatan:
            return frozenset((code,))
        if self._inside is None:
            inside: dict[str, set[str]] = defaultdict(set)
            for k in self.kecamatan:
                parts = k.split(".")
                for n in range(1, len(parts)):
                    inside[".".join(parts[:n])].add(k)
            self._inside = {c: frozenset(v) for c, v in inside.items()}
        return self._inside.get(code, frozenset())

    def pairs(self) -> list[tuple[str, BaseGeometry]]:
        """Every (code, geometry), for the mapping dissolve."""
        return [(c, g) for d in (self.kecamatan, self.regencies, self.provinces) for c, (_n, g) in d.items()]


def _read_features(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["features"]


def read_admin_areas(kecamatan: Path, regencies: Path, provinces: Path | None = None) -> AdminAreas:
    """Read GeoJSON files with ``kode``/``nama`` (the bundled schema, boundaries/SOURCES.md)."""
    def load(path: Path | None) -> dict[str, tuple[str, BaseGeometry]]:
        if path is None:
            return {}
        # The bundled files are ours and EPSG:4326 already: read in place (no upload vetting).
        gdf = boundary_files.read_bundled_layer(Path(path))
        return dict(zip(gdf["kode"].astype(str), zip(gdf["nama"].astype(str), gdf.geometry, strict=True), strict=True))
    return AdminAreas(load(kecamatan), load(regencies), load(provinces))


@lru_cache(maxsize=1)
def approximate_special_areas(path: Path = SPECIAL_AREAS_FILE) -> frozenset[str]:
    """Unit codes whose area is a bundled special-area polygon marked ``approximate`` (never a
    surveyed boundary): the polygons' own codes and every structure row drawn with one
    (``@special:<code>``, e.g. the airport's Polsek before its Polres).

    Answers name a special area *approximate* by its code: a real polygon uploaded for the same
    code is still called approximate until the bundled file drops the mark (a conservative error).
    """
    polygons = {str(f["properties"]["code"]) for f in _read_features(path) if f["properties"].get("approximate", True)}
    drawn = {r.code for r in read_structure() if any(a.startswith("@special:") and a.split(":", 1)[1] in polygons
                                                     for a in r.areas)}
    return frozenset(polygons | drawn)


def read_special_areas(path: Path = SPECIAL_AREAS_FILE) -> dict[str, BaseGeometry]:
    """Special-area polygons by unit code (bundled ones are approximate)."""
    return {f["properties"]["code"]: shape(f["geometry"]) for f in _read_features(path)}


# ------------------------------------------------------------------ rows -> mapping


@dataclass
class Plan:
    """What each unit covers (kecamatan codes), before dissolving."""

    units: dict[str, dict]  # code -> {name, level, parent, kec: set, special: str | None}
    report: checks.Report


def _claim(rows: Sequence[StructureRow], admin: AdminAreas, level: str) -> tuple[dict[str, set[str]], list[str]]:
    sets: dict[str, set[str]] = {}
    problems: list[str] = []
    for r in rows:
        if r.level != level or any(a.startswith("@special:") for a in r.areas):
            continue
        plus = set().union(*[admin.expand(a) for a in r.areas if not a.startswith("-")] or [set()])
        minus = set().union(*[admin.expand(a[1:]) for a in r.areas if a.startswith("-")] or [set()])
        sets[r.code] = plus - minus
    owner: dict[str, str] = {}
    for code, kec in sets.items():
        for k in kec:
            if k in owner:
                problems.append(f"kecamatan {k} is claimed by {owner[k]} and {code} ({level})")
            owner.setdefault(k, code)
    return sets, problems


def plan_units(rows: Sequence[StructureRow], admin: AdminAreas) -> Plan:
    """Decide every unit's area (explicit rows plus the derived one-to-one units)."""
    report = checks.Report()
    units: dict[str, dict] = {}
    by_code = {r.code: r for r in rows}
    kec_owner: dict[str, dict[str, str]] = {}
    for level in LEVELS:
        sets, problems = _claim(rows, admin, level)
        for p in problems:
            report.add("STRUCTURE_AREA_TWICE", "error", p.capitalize() + ".")
        owner = {k: code for code, kec in sorted(sets.items()) for k in kec}
        for code, kec in sets.items():
            if kec:
                r = by_code[code]
                parent = None if r.parent_code == MABES_CODE else r.parent_code
                units[code] = {"name": r.name, "level": level, "parent": parent, "kec": kec, "special": None}
        free = sorted(k for k in admin.kecamatan if k not in owner)
        if level == "polda" and free:
            report.add("KECAMATAN_WITHOUT_POLDA", "error",
                       f"{len(free)} kecamatan belong to no Polda: {', '.join(free[:8])}.", units=free[:12])
        elif level == "polres":
            by_regency: dict[str, set[str]] = defaultdict(set)
            for k in free:
                by_regency[k.rsplit(".", 1)[0]].add(k)
            for reg, kec in sorted(by_regency.items()):
                poldas = sorted({kec_owner["polda"].get(k) for k in kec} - {None})
                if len(poldas) != 1:
                    report.add("REGENCY_SPLIT_WITHOUT_POLRES", "error",
                               f"Regency {reg} lies in Polda {', '.join(poldas) or '-'}: list its Polres.", units=[reg])
                    continue
                name = admin.regencies.get(reg, (reg, None))[0]
                units[reg] = {"name": polres_name(name), "level": "polres", "parent": poldas[0], "kec": kec,
                              "special": None}
                owner.update(dict.fromkeys(kec, reg))
        elif level == "polsek":
            for k in free:
                units[k] = {"name": "Polsek " + admin.kecamatan[k][0], "level": "polsek",
                            "parent": kec_owner["polres"].get(k), "kec": {k}, "special": None}
                owner[k] = k
        kec_owner[level] = owner
    # A listed Polsek must lie in its parent Polres, a Polres in its parent Polda.
    for code, u in units.items():
        if u["level"] == "polda" or u["parent"] is None:
            continue
        upper = "polda" if u["level"] == "polres" else "polres"
        wrong = sorted(k for k in u["kec"] if kec_owner[upper].get(k) != u["parent"])
        if wrong:
            report.add("STRUCTURE_PARENT_DISAGREES", "error",
                       f"{code} ({u['name']}) names parent {u['parent']}, but kecamatan {', '.join(wrong[:5])} "
                       f"belong to {kec_owner[upper].get(wrong[0])}.", units=[code])
    for r in rows:
        special = [a.split(":", 1)[1] for a in r.areas if a.startswith("@special:")]
        if special and r.parent_code in units:
            units[r.code] = {"name": r.name, "level": r.level, "parent": r.parent_code, "kec": set(),
                             "special": special[0]}
    return Plan(units=units, report=report)


def _compact(kec: set[str], admin: AdminAreas) -> list[str]:
    """The fewest area codes covering exactly ``kec``: whole provinces, then whole regencies."""
    out: list[str] = []
    left = set(kec)
    for depth, table in ((1, admin.provinces), (2, admin.regencies)):
        for code in sorted({".".join(k.split(".")[:depth]) for k in left} & table.keys()):
            inside = admin.expand(code)
            if inside and inside <= left:
                out.append(code)
                left -= inside
    return out + sorted(left)


def mapping_csv(plan: Plan, admin: AdminAreas) -> bytes:
    """The plan as the product's mapping CSV (one row per unit, area codes joined with ``;``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["unit_code", "unit_name", "level", "parent_code", "area_code"])
    for code, u in sorted(plan.units.items(), key=lambda kv: (LEVELS.index(kv[1]["level"]), kv[0])):
        if u["special"] is None:
            w.writerow([code, u["name"], u["level"], u["parent"] or "", ";".join(_compact(u["kec"], admin))])
    return buf.getvalue().encode("utf-8")


def apply_special_areas(units: Sequence[Unit], plan: Plan, polygons: Mapping[str, BaseGeometry],
                        report: checks.Report) -> list[Unit]:
    """Add the special-area units and cut their polygons out of every unit that is not an ancestor."""
    by_code = {u.code: u for u in units}
    out = list(units)
    for code, u in sorted(plan.units.items()):
        if u["special"] is None:
            continue
        geom = polygons.get(u["special"])
        if geom is None:
            report.add("SPECIAL_AREA_MISSING", "warning", f"No polygon for special area {code}; left out.",
                       units=[code])
            continue
        ancestors: set[str] = set()
        cur = u["parent"]
        while cur is not None and cur in by_code and cur not in ancestors:
            ancestors.add(cur)
            cur = by_code[cur].parent_code
        cut: list[str] = []
        for i, other in enumerate(out):
            if other.code in ancestors or not other.geometry.intersects(geom):
                continue
            rest = shapely.difference(other.geometry, geom, grid_size=1e-6)
            out[i] = replace(other, geometry=polygonal_part(rest))
            cut.append(other.code)
        out.append(Unit(code=code, name=u["name"], level=u["level"], parent_code=u["parent"], geometry=geom))
        report.add("SPECIAL_AREA_OVERLAY", "info",
                   f"Special area {code} ({u['name']}) lies over {', '.join(cut) or 'no unit'}: it was cut out of "
                   "them so it answers there (intended overlay, not an overlap).", units=[code, *cut])
    return out


def clip_special_to(plan: Plan, polygons: Mapping[str, BaseGeometry], admin: AdminAreas,
                    land_only: Iterable[str] = ("51.K01",)) -> dict[str, BaseGeometry]:
    """Special polygons, the airport cut to land (port and sea sectors keep their water)."""
    out = dict(polygons)
    for code in land_only:
        if code not in out:
            continue
        near = [g for _n, g in admin.kecamatan.values() if g.intersects(out[code])]
        if near:
            out[code] = polygonal_part(shapely.intersection(out[code], shapely.union_all(near), grid_size=1e-6))
    return out


def build_structure_units(
    admin: AdminAreas, *, on: date, rows: Sequence[StructureRow] | None = None,
    special: Mapping[str, BaseGeometry] | None = None,
) -> tuple[list[Unit], checks.Report, bytes]:
    """Units of the structure in force on ``on`` for the given administrative areas.

    Returns ``(units, report, mapping CSV used)``. Units outside the areas given (another
    province) are left out.
    """
    rows = rows_in_force(rows if rows is not None else read_structure(), on)
    plan = plan_units(rows, admin)
    csv_bytes = mapping_csv(plan, admin)
    units, report = boundary_files.units_from_mapping(admin.pairs(), csv_bytes)
    # One info per dissolved unit is noise at this size: keep a count.
    dissolved = sum(1 for i in report.items if i.code == "UNIT_DISSOLVED")
    report.items[:] = [i for i in report.items if i.code != "UNIT_DISSOLVED"]
    report.extend(plan.report.items)
    report.add("STRUCTURE_BUILT", "info",
               f"{len(units)} units built from boundaries/police_structure.csv in force on {on.isoformat()} "
               f"({dissolved} dissolved from several areas).")
    polygons = clip_special_to(plan, special if special is not None else read_special_areas(), admin)
    units = apply_special_areas(units, plan, polygons, report)
    return sorted(units, key=lambda u: (LEVELS.index(u.level), u.code)), report, csv_bytes


def _plan_signature(plan: Plan) -> frozenset[tuple]:
    return frozenset((code, u["name"], u["level"], u["parent"], frozenset(u["kec"]), u["special"])
                     for code, u in plan.units.items())


def version_days(admin: AdminAreas, rows: Sequence[StructureRow] | None = None) -> list[date]:
    """The first day of every distinct structure version *for these areas*, oldest first.

    The first version starts on :data:`STRUCTURE_START` (the first day the file describes: a
    moment before it is answered by the first version, with the flag ``AT_BEFORE_EARLIEST_SET``);
    a change date (:func:`change_dates`) starts a new version only when it changes a unit of
    ``admin`` (name, parent, areas or special polygon), so Bali gets no set for the Papua change.
    """
    rows = list(rows if rows is not None else read_structure())
    days = [STRUCTURE_START]
    last = _plan_signature(plan_units(rows_in_force(rows, STRUCTURE_START), admin))
    for day in change_dates(rows):
        if day <= STRUCTURE_START:
            continue
        signature = _plan_signature(plan_units(rows_in_force(rows, day), admin))
        if signature != last:
            days.append(day)
            last = signature
    return days


def bali_admin_areas(directory: Path = BOUNDARIES_DIR) -> AdminAreas:
    """The fine bundled Bali areas (the province is the union of its regencies)."""
    admin = read_admin_areas(directory / "bali_kecamatan.geojson", directory / "bali_kabupaten_kota.geojson")
    union = shapely.union_all([g for _n, g in admin.regencies.values()], grid_size=1e-6)
    admin.provinces = {"51": ("Bali", union)}
    return admin


def load_bali_structure_units(on: date | None = None) -> tuple[list[Unit], checks.Report, bytes]:
    """The bundled Bali default: the structure in force on ``on`` (default today)."""
    return build_structure_units(bali_admin_areas(), on=on or date.today())


def as_date(value: date | datetime | str | None) -> date | None:
    """A day from a date, a datetime (its own calendar day) or an ISO text."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    return value.date()
