"""Check-and-publish time of real boundary files through the product's import path, next to the
time geopandas needs just to read the same file (measured in the same run).

Files (the shipped copies in boundaries/):

* ``indonesia_kabupaten_kota.geojson`` (514 regencies, 156k vertices) as Polres, after the
  38 provinces were imported and published as Polda (so every regency has its parent);
* ``bali_desa_kelurahan.geojson`` (716 villages, 82k vertices, real overlaps and gaps) as
  Polsek-level units under the bundled Polres (parent = ``kode_kab``).

For each: ``geopandas.read_file`` (baseline), then ``services.boundaries.import_boundaries``
(safe read, units, checks, draft stored) and ``publish`` on a fresh embedded SQLite database,
and the index rebuild that every worker does after a publish.

Run: ``/work/venv/bin/python bench/bench_import.py [--data-dir boundaries]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_service.config import load_settings  # noqa: E402
from geo_service.services import boundaries  # noqa: E402
from geo_service.services.bootstrap import ensure_bundled  # noqa: E402
from geo_service.services.registry import IndexHolder  # noqa: E402
from geo_service.storage import db, repo  # noqa: E402
from geo_service.storage.db import Storage  # noqa: E402


def _import_and_publish(storage: Storage, path: Path, level: str, *, keep: bool,
                        parent_field: str | None) -> tuple[float, float, int, int, bool]:
    data = path.read_bytes()
    t0 = time.perf_counter()
    with storage.transaction() as session:
        bset = boundaries.import_boundaries(session, data=data, filename=path.name, level=level, actor="bench",
                                            keep_published_levels=keep, parent_field=parent_field,
                                            code_field="kode", name_field="nama")
        set_id, errors = bset.id, len((bset.report or {}).get("errors", []))
        warnings = len((bset.report or {}).get("warnings", []))
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    published = errors == 0
    if published:
        with storage.transaction() as session:
            boundaries.publish(session, set_id, actor="bench")
    t_publish = time.perf_counter() - t0
    return t_import, t_publish, errors, warnings, published


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(ROOT / "boundaries"))
    args = ap.parse_args()
    data_dir = Path(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={"GEO_SERVICE_DATA_DIR": tmp})
        storage = Storage(settings.database_url, settings.backend)
        db.upgrade(storage.engine)
        ensure_bundled(storage, settings)
        holder = IndexHolder(storage, settings)
        print(f"{'file':<36}{'read (gpd)':>12}{'import+check':>14}{'publish':>10}{'reindex':>10}"
              f"{'ratio':>8}  errors/warnings")

        def run(label: str, path: Path, level: str, keep: bool, parent_field: str | None) -> None:
            t0 = time.perf_counter()
            gpd.read_file(path)
            t_read = time.perf_counter() - t0
            t_import, t_publish, errors, warnings, published = _import_and_publish(
                storage, path, level, keep=keep, parent_field=parent_field)
            t0 = time.perf_counter()
            holder.refresh(force=True)
            t_index = time.perf_counter() - t0
            total = t_import + t_publish
            print(f"{label:<36}{t_read:>11.2f}s{t_import:>13.2f}s{t_publish:>9.2f}s{t_index:>9.2f}s"
                  f"{total / t_read:>7.0f}x  {errors}/{warnings}{'' if published else ' (not published)'}")

        run("indonesia_provinsi (polda)", data_dir / "indonesia_provinsi.geojson", "polda", False, None)
        run("indonesia_kabupaten_kota (polres)", data_dir / "indonesia_kabupaten_kota.geojson", "polres", True,
            "kode_prov")
        # Back to the bundled Bali set, then the villages as Polsek-level units under its Polres.
        with storage.transaction() as session:
            repo.publish_boundary_set(session, 1, actor="bench")
        run("bali_desa_kelurahan (polsek)", data_dir / "bali_desa_kelurahan.geojson", "polsek", True, "kode_kab")
        storage.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
