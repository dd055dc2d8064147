"""The national boundary set: Polda/Polres/Polsek for all of Indonesia, merged with a finer set.

Built by the product's own import path (``geo.boundary_files`` readers, ``geo.checks.check_units``,
``storage.repo.create_boundary_set``) from three files shipped in ``boundaries/`` (copies of the reference data, see boundaries/SOURCES.md):

* ``indonesia_provinsi.geojson`` (38) -> **Polda** ``"Polda <province name>"``, code ``"11"``;
* ``indonesia_kabupaten_kota.geojson`` (514) -> **Polres** (``"Polres X"``, ``"Polresta X"`` for a
  kota: :func:`geo_service.geo.bundled.polres_name`), code ``"11.01"``;
* ``indonesia_kecamatan.geojson`` (7,285) -> **Polsek** ``"Polsek X"``, code ``"11.01.01"``.

Parents come from the **code prefix** (``"11.01.01"`` -> ``"11.01"`` -> ``"11"``), never from
the files' parent columns (a disagreement is reported as ``PARENT_FIELD_DISAGREES``) and never
from a second point-in-polygon lookup.

Hierarchy rule for a kecamatan that spills out of its regency
--------------------------------------------------------------
These files are coarse and disagree with each other: 426 regencies stick out of their
province and many kecamatan stick out of their regency, some into a neighbouring regency or
even a neighbouring province. The index answers with the **leaf** (Polsek) whose polygon covers
the point, and the Polres and Polda come from that leaf's code prefix. So a point inside
kecamatan 64.02.12 Tabang (Kutai Kartanegara, Kalimantan Timur) where that polygon spills into
regency 65.02 Malinau (Kalimantan Utara) is answered ``Polsek Tabang / Polres Kutai
Kartanegara / Polda Kalimantan Timur``: the kecamatan's own chain, not the Polres or Polda
polygon that happens to cover the point. One responsible unit per leaf keeps a whole Polsek in
one Polres, one Polda and one time zone (``geo.timezones`` also works from the code). Where two
kecamatan polygons overlap, the index's tie rule applies (lowest code wins, flag ``OVERLAP``).

Merging with a finer set (who wins where both cover a point)
-------------------------------------------------------------
The bundled Bali set is much finer than the national files. An admin chooses, per province,
which source answers (``geo-service national load --keep-province 51 ...``):

* **kept provinces** (default ``51``, Bali): the national units of that province (code ``51``
  and ``51.*``) are *replaced* by the fine units whose Polda is that province. The fine units
  come from the bundled Bali set (``--fine-from bundled``, default) or from the currently
  published set (``--fine-from published``: e.g. real Polres/Polsek polygons an admin loaded
  earlier for that Polda).
* **every other province** comes from the national files. Their units are *clipped* by the
  union of the kept fine units, so where a coarse national polygon and a fine polygon both
  cover a point **the finer set wins** (reported as info ``FINE_SET_CLIPPED``).
* ``--national-only`` keeps no province: the national files answer everywhere.

So the Bali answers are unchanged when the national set is loaded with the default choice.

Checks
------
Every level is checked by ``check_units`` (on these files ~35 s of CPU for all 7,837 units, ~16 s for
Polda + Polres only, measured on 2 cores). ``kecamatan_checks=False`` skips the overlap/gap
analysis at Polsek level (kept: duplicate codes, missing parents) and says so as info
``KECAMATAN_CHECKS_SKIPPED``; the Polda and Polres levels are always fully checked. The report
of the coarse files is large (tens of thousands of overlaps and gaps), so the stored report keeps
every error, the :data:`MAX_ITEMS_PER_GROUP` largest warnings of each code and level, and a
per-level summary (``NATIONAL_SUMMARY`` info items and ``report["national"]``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy.orm import Session

from geo_service.errors import InvalidInput
from geo_service.geo import boundary_files, checks
from geo_service.geo.area import LEVELS, Level, Unit
from geo_service.geo.bundled import polres_name
from geo_service.geo.geometry import area_m2, polygonal_part
from geo_service.services import structure
from geo_service.services.bootstrap import unit_areas_m2
from geo_service.services.boundaries import published_units
from geo_service.storage import repo
from geo_service.storage.models import BoundarySet

LOGGER = logging.getLogger(__name__)
Progress = Callable[[str], None]
FineSource = Literal["bundled", "published"]

#: The national files, one per level (shipped in ``boundaries/``).
NATIONAL_FILES: dict[Level, str] = {
    "polda": "indonesia_provinsi.geojson",
    "polres": "indonesia_kabupaten_kota.geojson",
    "polsek": "indonesia_kecamatan.geojson",
}
#: Provinces kept from the fine set by default (Bali).
DEFAULT_KEEP_PROVINCES: tuple[str, ...] = ("51",)
#: Largest warnings kept in the stored report per (code, level); the summary counts all of them.
MAX_ITEMS_PER_GROUP = 25
#: The steps reported through ``progress`` (the CLI's progress bar has one tick per step).
STEPS: tuple[str, ...] = (
    "reading provinces", "reading regencies", "reading kecamatan", "merging the fine set", "checking",
    "storing the set",
)


def _noop(_msg: str) -> None:
    return None


def parent_from_code(code: str) -> str | None:
    """The parent code by prefix: ``"11.01.01"`` -> ``"11.01"``, ``"11"`` -> None.

    >>> parent_from_code("11.01.01"), parent_from_code("11.01"), parent_from_code("11")
    ('11.01', '11', None)
    """
    head, _, _ = code.rpartition(".")
    return head or None


def police_name(level: Level, area_name: str) -> str:
    """The police unit's name for an administrative area name as in the national files.

    >>> police_name("polda", "Bali"), police_name("polres", "Kota Denpasar"), police_name("polsek", "Kuta")
    ('Polda Bali', 'Polresta Denpasar', 'Polsek Kuta')
    """
    if level == "polda":
        return "Polda " + area_name
    if level == "polres":
        return polres_name(area_name)
    return "Polsek " + area_name


@dataclass
class NationalSet:
    """The merged units, their check report and what was done to build them."""

    units: list[Unit]
    report: checks.Report
    file_sha256: str
    kept_provinces: tuple[str, ...]
    fine_source: str | None
    clipped: dict[str, float] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ reading


def national_file(data_dir: Path, file_name: str) -> Path:
    """The path of one national file (``NATIONAL_FILE_MISSING`` when absent)."""
    path = Path(data_dir) / file_name
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist; point --data-dir at the folder with {file_name}",
                           code="NATIONAL_FILE_MISSING")
    return path


def read_national_units(
    data_dir: Path,
    *,
    limits: boundary_files.FileLimits | None = None,
    progress: Progress = _noop,
) -> tuple[list[Unit], checks.Report, str]:
    """Read the three national files into police units (names and parents as in the module docstring).

    Returns ``(units, report of reading, sha256 of the three files)``.
    """
    report = checks.Report()
    digest = hashlib.sha256()
    units: list[Unit] = []
    for step, (level, file_name) in zip(STEPS[:3], NATIONAL_FILES.items(), strict=True):
        progress(step)
        data = national_file(data_dir, file_name).read_bytes()
        digest.update(data)
        raw = boundary_files.read_boundary_file(data, file_name, limits=limits or boundary_files.FileLimits())
        # The parent column is read only to compare it with the code prefix.
        level_units, level_report = boundary_files.units_from_layer(raw, level=level, code_field="kode",
                                                                    name_field="nama")
        report.extend(i for i in level_report.items if i.code != "FIELDS_GUESSED")
        disagree = [u.code for u in level_units
                    if level != "polda" and u.parent_code is not None and u.parent_code != parent_from_code(u.code)]
        if disagree:
            report.add("PARENT_FIELD_DISAGREES", "warning",
                       f"{len(disagree)} {level} unit(s) in {file_name} name a parent other than their code "
                       "prefix; the prefix was used.", units=disagree[:12])
        units.extend(replace(u, name=police_name(level, u.name), parent_code=parent_from_code(u.code))
                     for u in level_units)
    return units, report, digest.hexdigest()


def read_structure_units(
    data_dir: Path, *, on: date, progress: Progress = _noop,
) -> tuple[list[Unit], checks.Report, str]:
    """The Polri structure in force on ``on`` over the three national files (``services.structure``).

    Polda, Polres and Polsek come from ``boundaries/police_structure.csv`` through the mapping
    path: Polda Metro Jaya spans DKI and the buffer cities, Polda Papua Tengah and Papua Barat
    Daya exist from 11 November 2024, and so on; areas the file does not list are derived
    one-to-one. Returns ``(units, report, sha256 of the three files and the structure file)``.
    """
    digest = hashlib.sha256()
    paths = {}
    for step, (level, file_name) in zip(STEPS[:3], NATIONAL_FILES.items(), strict=True):
        progress(step)
        path = national_file(data_dir, file_name)
        digest.update(path.read_bytes())
        paths[level] = path
    digest.update(structure.STRUCTURE_FILE.read_bytes())
    admin = structure.read_admin_areas(paths["polsek"], paths["polres"], paths["polda"])
    units, report, _mapping = structure.build_structure_units(admin, on=on)
    return units, report, digest.hexdigest()


# ------------------------------------------------------------------ merging


def root_code(code: str, parents: dict[str, str | None]) -> str:
    """The top (Polda) code of ``code`` by walking parent codes (cycles stop the walk)."""
    seen = {code}
    while (parent := parents.get(code)) is not None and parent in parents and parent not in seen:
        seen.add(parent)
        code = parent
    return code


def merge_fine_units(
    national: Sequence[Unit], fine: Sequence[Unit], keep_provinces: Iterable[str]
) -> tuple[list[Unit], checks.Report, dict[str, float]]:
    """Replace the kept provinces by the fine units and clip every other unit by them.

    Returns ``(units, report, {clipped unit code: area removed in m²})``. Raises
    ``InvalidInput`` (``FINE_PROVINCE_MISSING``) when the fine set has no Polda for a kept code.
    """
    keep = tuple(dict.fromkeys(keep_provinces))
    report = checks.Report()
    if not keep:
        return sorted(national, key=_order), report, {}
    fine_parents = {u.code: u.parent_code for u in fine}
    kept_fine = [u for u in fine if root_code(u.code, fine_parents) in keep]
    found = {u.code for u in kept_fine if u.level == "polda"}
    missing = [c for c in keep if c not in found]
    if missing:
        raise InvalidInput(f"the fine set has no Polda with code {', '.join(missing)}; keep only provinces it has",
                           code="FINE_PROVINCE_MISSING")
    nat_parents = {u.code: u.parent_code for u in national}
    others = [u for u in national if root_code(u.code, nat_parents) not in keep]
    fine_geoms = [u.geometry for u in kept_fine if not u.geometry.is_empty]
    fine_union = shapely.union_all(fine_geoms) if fine_geoms else shapely.Polygon()
    shapely.prepare(fine_union)
    clipped: dict[str, float] = {}
    if not fine_union.is_empty and others:
        geoms = np.array([u.geometry for u in others], dtype=object)
        hits = STRtree(geoms).query(fine_union, predicate="intersects")
        for i in sorted(int(h) for h in hits):
            unit = others[i]
            removed = area_m2(shapely.intersection(unit.geometry, fine_union))
            if removed < checks.NOISE_AREA_M2:
                continue  # they only touch along a border
            # a clip can leave lines or points along the cut
            rest = polygonal_part(shapely.difference(unit.geometry, fine_union))
            others[i] = replace(unit, geometry=rest)
            clipped[unit.code] = removed
    if clipped:
        report.add("FINE_SET_CLIPPED", "info",
                   f"{len(clipped)} national unit(s) overlapped the fine units of {', '.join(keep)} and were "
                   f"clipped ({sum(clipped.values()) / 1e6:,.3f} km² in all): the finer set wins there.",
                   units=sorted(clipped)[:12], area_m2=sum(clipped.values()))
    report.add("FINE_PROVINCES_KEPT", "info",
               f"Province(s) {', '.join(keep)} come from the finer set ({len(kept_fine)} units); "
               f"{len(national) - len(others)} national unit(s) were replaced.", units=list(keep))
    return sorted([*others, *kept_fine], key=_order), report, clipped


def _order(u: Unit) -> tuple[int, str]:
    return LEVELS.index(u.level), u.code


# ------------------------------------------------------------------ checks


def check_national(units: Sequence[Unit], *, kecamatan_checks: bool = True,
                   report: checks.Report | None = None) -> checks.Report:
    """Run the checks; without ``kecamatan_checks`` the Polsek overlap/gap analysis is skipped."""
    report = report if report is not None else checks.Report()
    if kecamatan_checks:
        return checks.check_units(units, report=report)
    upper = [u for u in units if u.level != "polsek"]
    leaves = [u for u in units if u.level == "polsek"]
    checks.check_units(upper, report=report)
    codes = {u.code for u in upper}
    seen: set[str] = set()
    for u in leaves:
        if u.code in seen or u.code in codes:
            report.add("DUPLICATE_CODE", "error", f"Code {u.code!r} is used by more than one unit.", units=[u.code])
        seen.add(u.code)
        if u.parent_code not in codes:
            report.add("PARENT_MISSING", "error",
                       f"Unit {u.code} names parent {u.parent_code!r}, which is not in the hierarchy.",
                       units=[u.code])
        if u.geometry.is_empty:
            report.add("EMPTY_GEOMETRY", "warning", f"Unit {u.code} has an empty geometry.", units=[u.code])
    report.add("KECAMATAN_CHECKS_SKIPPED", "info",
               f"The overlap and gap analysis of the {len(leaves)} polsek units was skipped on request; "
               "polda and polres levels were checked in full.")
    return report


def accept_code_parents(report: checks.Report) -> int:
    """Turn "child entirely outside its parent" errors into warnings; returns how many.

    The check calls it an error because an uploaded parent code is then almost certainly wrong.
    Here the parent *is* the code prefix, so the polygons disagree, not the hierarchy (the
    coarse kecamatan 96.01.11 Klabot lies in a gap between the regency polygons); the index
    answers from the code prefix anyway (module docstring).
    """
    changed = 0
    for pos, item in enumerate(report.items):
        if item.code == "CHILD_OUTSIDE_PARENT" and item.severity == "error":
            report.items[pos] = replace(item, severity="warning",
                                        message=item.message.replace("; the parent code is probably wrong.", "")
                                        + "; kept: the parent comes from the code prefix.")
            changed += 1
    if changed:
        report.add("CODE_PARENTS_ACCEPTED", "info",
                   f"{changed} unit(s) lie entirely outside their parent's polygon; their parent comes from "
                   "the code prefix, so they were kept (warning, not error).")
    return changed


def item_level(item: checks.ReportItem, levels: Mapping[str, str]) -> str:
    """The level a report item is about: the lowest level among its units ("set" when none)."""
    found = [levels[c] for c in item.units if c in levels]
    return max(found, key=LEVELS.index) if found else "set"


def summarise_report(report: checks.Report, units: Sequence[Unit]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stored report, per-level summary): every error and info, the largest warnings of each group.

    The summary counts, per level, overlapping pairs and their km², gap pieces (``GAP`` and
    ``SLIVER``) and their km², children outside their parent and parents with low coverage.
    """
    levels = {u.code: u.level for u in units}
    groups: dict[tuple[str, str], list[checks.ReportItem]] = defaultdict(list)
    for item in report.warnings:
        groups[(item.code, item_level(item, levels))].append(item)
    summary: dict[str, dict[str, float]] = {}
    for level in (*LEVELS, "set"):
        row: dict[str, float] = {}
        for name, codes in (("overlaps", ("OVERLAP",)), ("gaps", ("GAP", "SLIVER")),
                            ("children_outside_parent", ("CHILD_OUTSIDE_PARENT",)),
                            ("low_parent_coverage", ("LOW_PARENT_COVERAGE",))):
            items = [i for c in codes for i in groups.get((c, level), [])]
            if items:
                row[name] = len(items)
                row[name + "_km2"] = round(sum(i.area_m2 or 0.0 for i in items) / 1e6, 3)
        if row:
            summary[level] = row
    kept: list[checks.ReportItem] = []
    left_off = 0
    for (_code, _level), items in sorted(groups.items()):
        items = sorted(items, key=lambda i: -(i.area_m2 or 0.0))
        kept.extend(items[:MAX_ITEMS_PER_GROUP])
        left_off += max(0, len(items) - MAX_ITEMS_PER_GROUP)
    infos = list(report.infos)
    for level, row in summary.items():
        parts = [f"{int(row[k])} {k.replace('_', ' ')} ({row[k + '_km2']:,.1f} km²)" for k in row
                 if not k.endswith("_km2")]
        infos.append(checks.ReportItem("NATIONAL_SUMMARY", "info", f"{level}: " + "; ".join(parts) + "."))
    if left_off:
        infos.append(checks.ReportItem(
            "REPORT_TRUNCATED", "info",
            f"{left_off} smaller warning(s) are not listed: only the {MAX_ITEMS_PER_GROUP} largest of each "
            "code and level are kept; the summary counts all of them."))
    stored = {"errors": [i.to_dict() for i in report.errors], "warnings": [i.to_dict() for i in kept],
              "info": [i.to_dict() for i in infos]}
    return stored, summary


# ------------------------------------------------------------------ the use case


def build_national_set(
    data_dir: Path,
    *,
    fine_units: Sequence[Unit] = (),
    keep_provinces: Iterable[str] = DEFAULT_KEEP_PROVINCES,
    fine_source: str | None = "bundled",
    kecamatan_checks: bool = True,
    run_checks: bool = True,
    progress: Progress = _noop,
    on: date | None = None,
    admin_only: bool = False,
) -> NationalSet:
    """Read, merge and check the national set (no database). ``run_checks=False`` is for benchmarks.

    The units follow the Polri structure in force on ``on`` (default today); ``admin_only``
    keeps the old one-unit-per-administrative-area reading (:func:`read_national_units`).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if admin_only:
        national, report, sha = read_national_units(data_dir, progress=progress)
    else:
        national, report, sha = read_structure_units(data_dir, on=on or date.today(), progress=progress)
    timings["read_s"] = time.perf_counter() - started
    progress(STEPS[3])
    keep = tuple(dict.fromkeys(keep_provinces))
    started = time.perf_counter()
    units, merge_report, clipped = merge_fine_units(national, fine_units, keep)
    report.extend(merge_report)
    timings["merge_s"] = time.perf_counter() - started
    progress(STEPS[4])
    if run_checks:
        started = time.perf_counter()
        check_national(units, kecamatan_checks=kecamatan_checks, report=report)
        accept_code_parents(report)
        timings["check_s"] = time.perf_counter() - started
    return NationalSet(units=units, report=report, file_sha256=sha, kept_provinces=keep,
                       fine_source=fine_source if keep else None, clipped=clipped, timings_s=timings)


def load_national(
    session: Session,
    *,
    data_dir: Path,
    actor: str,
    keep_provinces: Iterable[str] = DEFAULT_KEEP_PROVINCES,
    fine_from: FineSource = "bundled",
    kecamatan_checks: bool = True,
    publish: bool = False,
    name: str | None = None,
    request_id: str | None = None,
    progress: Progress = _noop,
    on: date | None = None,
) -> tuple[BoundarySet, NationalSet, int | None]:
    """Build, check and store the national set as a draft; publish it when asked (caller commits).

    Returns ``(set, what was built, new generation or None)``. A set whose report has errors is
    stored as a draft and not published (generation None), as the publish API would refuse it.
    """
    keep = tuple(dict.fromkeys(keep_provinces))
    on = on or date.today()
    published_id, published = published_units(session)
    if fine_from == "bundled":
        fine = structure.load_bali_structure_units(on)[0] if keep else []
    elif fine_from == "published":
        fine = published
    else:
        raise InvalidInput("fine_from must be 'bundled' or 'published'", code="INVALID_FINE_SOURCE")
    built = build_national_set(data_dir, fine_units=fine, keep_provinces=keep, fine_source=fine_from,
                               kecamatan_checks=kecamatan_checks, progress=progress, on=on)
    progress(STEPS[5])
    stored, summary = summarise_report(built.report, built.units)
    stored["national"] = {
        "summary": summary, "kept_provinces": list(built.kept_provinces), "fine_source": built.fine_source,
        "clipped_m2": {k: round(v, 1) for k, v in built.clipped.items()},
        "kecamatan_checks": kecamatan_checks, "timings_s": {k: round(v, 2) for k, v in built.timings_s.items()},
        "files": list(NATIONAL_FILES.values()),
    }
    fine_label = f" + {'/'.join(keep)} dari/from {fine_from}" if keep else ""
    fine_label += f", struktur {structure.effective_day(on).isoformat()}"
    bset = repo.create_boundary_set(
        session,
        name=(name or f"Indonesia nasional (batas administrasi){fine_label}")[:200],
        units=built.units,
        source="national",
        created_by=actor,
        level=None,
        file_name=NATIONAL_FILES["polsek"],
        file_sha256=built.file_sha256,
        report=stored,
        has_errors=built.report.has_errors or not built.units,
        base_set_id=published_id,
        area_m2=unit_areas_m2(built.units),
    )
    # Dated: the set answers "at" lookups from the first day of the structure version it holds.
    bset.effective_from = structure.day_start(structure.effective_day(on))
    repo.audit(session, actor=actor, action="boundary_set.import_national", target_type="boundary_set",
               target_id=bset.id,
               detail={"file_sha256": built.file_sha256, "units": len(built.units), "kept_provinces": list(keep),
                       "fine_source": built.fine_source, "errors": len(built.report.errors),
                       "warnings": len(built.report.warnings), "kecamatan_checks": kecamatan_checks},
               request_id=request_id)
    generation = None
    if publish and not bset.has_errors:
        progress("publishing")
        generation = repo.publish_boundary_set(session, bset.id, actor=actor, request_id=request_id)
    return bset, built, generation


def history_days(today: date | None = None) -> list[date]:
    """The first day of every structure version up to ``today``, oldest first.

    Every change date of the structure file changes a unit of the national set (it holds every
    province, Bali's fine units included), so each starts a version; the first is
    :data:`structure.STRUCTURE_START` (``at`` before it answers from it, flagged).
    """
    last = today or date.today()
    return [structure.STRUCTURE_START,
            *(d for d in structure.change_dates(structure.read_structure()) if structure.STRUCTURE_START < d <= last)]


def load_national_history(session: Session, *, progress: Progress = _noop, kecamatan_checks: bool = True,
                          **kwargs: Any) -> list[tuple[BoundarySet, NationalSet, int | None]]:
    """:func:`load_national` once per structure version (:func:`history_days`), oldest first.

    Each set is dated from its version's first day; with ``publish`` the last one (today's) ends
    up the current set and the older ones answer ``at`` lookups of their time. The Polsek-level
    overlap/gap analysis (most of the run time) runs on today's version only: the older ones are
    the same kecamatan polygons grouped by other rows (their coverage is a test of the structure
    file), and their Polda/Polres levels are still checked.
    """
    out = []
    days = history_days()
    for day in days:
        progress(f"structure {day.isoformat()}")
        out.append(load_national(session, progress=progress, on=day,
                                 kecamatan_checks=kecamatan_checks and day == days[-1], **kwargs))
    return out
