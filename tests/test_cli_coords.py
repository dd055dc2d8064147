"""`geo-service coords check` and `geo-service locate` (memory and PostGIS engines) on temporary data dirs."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geo_service import cli
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

POINTS_CSV = ("id,lat,lon\n"
              "negara,-8.3582,114.6225\n"
              "sanur-sea,-8.7012,115.2712\n"
              "swapped,114.6225,-8.3582\n"
              "far,-10.5013,116.5012\n"
              "bad,abc,\n"
              "comma,\"-8,3582\",\"114,6225\"\n")


@pytest.fixture()
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean GEO_SERVICE_* environment on a temporary SQLite data dir."""
    for key in list(os.environ):
        if key.startswith("GEO_SERVICE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GEO_SERVICE_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("GEO_SERVICE_LOG_LEVEL", "WARNING")
    return tmp_path


@pytest.fixture()
def geo(data_env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """geo(*argv) -> exit status of ``geo-service argv`` run in-process."""

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    return run


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_coords_check_console(data_env: Path) -> None:
    src = data_env / "in.csv"
    src.write_text("text,hint_unit\n\"8°21'29.52\"\" LS 114°37'21\"\" BT\",\nJJRF+P2,51.01\nnonsense,\n"
                   "\"8.3582, 114.6225\",\n", encoding="utf-8")
    out = data_env / "out.csv"
    res = subprocess.run([sys.executable, "-m", "geo_service.cli", "coords", "check", str(src), "-o", str(out)],
                         env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = read_rows(out)
    assert list(rows[0]) == ["text", "hint_unit", "status", "lat", "lon", "format", "uncertainty_m", "confidence",
                             "flags"]
    assert [r["status"] for r in rows] == ["valid", "valid", "invalid", "corrected"]
    assert [r["format"] for r in rows] == ["dms", "pluscode", "", "decimal"]
    assert rows[2]["flags"] == "COORDINATE_INVALID" and rows[3]["flags"] == "PRESUMED_NEGATED_LATITUDE"
    assert abs(float(rows[1]["lat"]) + 8.3582) < 1e-3 and abs(float(rows[1]["lon"]) - 114.6225) < 1e-3


def test_coords_check_lat_lon_columns_to_stdout(geo: Callable[..., int], data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = data_env / "in.csv"
    src.write_text("lat,lon,crs,uncertainty_m\n-8.3582,114.6225,,\n9075312,238163,EPSG:32750,\n"
                   "-8.3582,114.6225,EPSG:nope,\n-8.3582,114.6225,,25\n", encoding="utf-8")
    assert geo("coords", "check", str(src)) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["status"] for r in rows] == ["valid", "valid", "invalid", "valid"]
    assert rows[1]["flags"] == "COORDINATE_REPROJECTED"
    assert rows[3]["uncertainty_m"] == "25.0"


def test_coords_check_large_file_shows_progress(geo: Callable[..., int], data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = data_env / "big.csv"
    src.write_text("lat,lon\n" + "-8.3582,114.6225\n" * 12_000, encoding="utf-8")
    out = data_env / "out.csv"
    assert geo("coords", "check", str(src), "-o", str(out)) == 0
    err = capsys.readouterr().err
    assert "coords check" in err and "12.0k/12.0k" in err
    assert len(read_rows(out)) == 12_000


def test_locate_memory_engine(geo: Callable[..., int], data_env: Path) -> None:
    src = data_env / "points.csv"
    src.write_text(POINTS_CSV, encoding="utf-8")
    out = data_env / "out.csv"
    assert geo("locate", str(src), "-o", str(out), "-q") == 0
    rows = read_rows(out)
    assert [r["id"] for r in rows] == ["negara", "sanur-sea", "swapped", "far", "bad", "comma"]
    assert [r["match"] for r in rows] == ["inside", "nearest", "inside", "none", "none", "inside"]
    assert [r["polsek_code"] for r in rows] == ["51.01.01", "51.71.01", "51.01.01", "", "", "51.01.01"]
    assert rows[1]["flags"] == "AT_SEA" and rows[3]["flags"] == "OUTSIDE_SERVICE_AREA"
    assert rows[0]["polsek_name"] == "Polsek Negara"


def test_locate_postgis_engine_needs_postgresql(geo: Callable[..., int], data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = data_env / "points.csv"
    src.write_text(POINTS_CSV, encoding="utf-8")
    assert geo("locate", str(src), "--engine", "postgis") == 2
    assert "PostgreSQL" in capsys.readouterr().err


@pytest.mark.postgis
def test_locate_postgis_engine_agrees_with_memory(geo: Callable[..., int], data_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = create_pg_database()
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", url)
    monkeypatch.setenv("GEO_SERVICE_SECRET_KEY", "test-secret-key-0123456789abcdef")
    try:
        rng = np.random.default_rng(5)
        extra = "".join(f"r{k},{rng.uniform(-8.85, -8.06):.6f},{rng.uniform(114.43, 115.72):.6f}\n"
                        for k in range(400))
        src = data_env / "points.csv"
        src.write_text(POINTS_CSV + extra, encoding="utf-8")
        mem, pg = data_env / "mem.csv", data_env / "pg.csv"
        assert geo("locate", str(src), "-o", str(mem), "-q") == 0
        assert geo("locate", str(src), "-o", str(pg), "--engine", "postgis", "-q") == 0
        mem_rows, pg_rows = read_rows(mem), read_rows(pg)
        assert list(mem_rows[0]) == list(pg_rows[0])
        assert [r["id"] for r in pg_rows] == [r["id"] for r in mem_rows]
        assert pg_rows[:6] == mem_rows[:6]  # the hand-picked rows agree in every column
        compared = 0
        for m, p in zip(mem_rows, pg_rows, strict=True):
            if m["match"] == "border":  # the SQL engine has no uncertainty circles
                assert p["match"] == "inside"
                continue
            assert (p["match"], p["polsek_code"], p["status"]) == (m["match"], m["polsek_code"], m["status"])
            if m["distance_m"]:
                assert abs(float(p["distance_m"]) - float(m["distance_m"])) <= max(1.0, 1e-3 * float(m["distance_m"]))
            compared += 1
        assert compared > 350
    finally:
        drop_pg_database(url)


def test_locate_reads_stdin(geo: Callable[..., int], data_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"lat,lon\n-8.7301,115.5402\n")))
    assert geo("locate", "-") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["polsek_name"] == "Polsek Nusa Penida"


def test_unreadable_input_file(geo: Callable[..., int], data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert geo("locate", str(data_env / "missing.csv")) == 1
    assert "FILE_UNREADABLE" in capsys.readouterr().err
