"""`geo-service boundaries ...` and `geo-service stations ...` against a temporary data dir, and a publish
seen by every worker of a real `geo-service serve`.

The console commands run as subprocesses once (the acceptance path); the detailed checks call
``cli.main`` in-process, which is the same code without paying an interpreter start per command.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from geo_service import cli
from geo_service.geo.bundled import BOUNDARIES_DIR
from tests.conftest import dispose_app, make_app, make_token

DATA = BOUNDARIES_DIR  # the reference files ship in boundaries/ (see boundaries/SOURCES.md)
KUTA = {"lon": 115.177805, "lat": -8.726433}  # inside 51.03.01 Kuta
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


def clean_env(data_dir: Path) -> dict[str, str]:
    """The environment with every GEO_SERVICE_* setting removed except the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}
    # The uploaded kecamatan files carry regency parents: run on the administrative bundled set they match.
    env.update(GEO_SERVICE_DATA_DIR=str(data_dir), GEO_SERVICE_LOG_LEVEL="WARNING", GEO_SERVICE_BUNDLED_SET="admin")
    return env


def run_console(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "geo_service.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def stations_csv(path: Path) -> Path:
    path.write_text("code,name,unit_code,lat,lon,phone\n"
                    "CLI-KUTA,Polsek Kuta (cli),51.03.01,-8.726433,115.177805,0361-1\n"
                    "CLI-DPS,Polsek Denpasar Selatan (cli),51.71.01,-8.701521,115.227086,0361-2\n")
    return path


def test_console_commands_on_a_temporary_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "instance"
    env = clean_env(data_dir)
    res = run_console(["boundaries", "import", str(DATA / "bali_kecamatan.geojson"), "--level", "polsek",
                       "--publish"], env)
    assert res.returncode == 0, res.stderr
    assert "boundary set 2 (draft): 67 units, 0 errors" in res.stdout
    assert "boundary set 2 published" in res.stdout
    assert "... reading bali_kecamatan.geojson" in res.stderr and "... storing the draft" in res.stderr

    res = run_console(["stations", "import", str(stations_csv(tmp_path / "pos.csv")), "--publish"], env)
    assert res.returncode == 0, res.stderr
    assert "station set 2 (draft): 2 stations, 0 errors" in res.stdout and "station set 2 published" in res.stdout

    res = run_console(["boundaries", "publish", "1"], env)  # roll back
    assert res.returncode == 0 and "boundary set 1 published" in res.stdout, res.stderr

    res = run_console(["boundaries", "list", "--json"], env)
    assert res.returncode == 0, res.stderr
    listing = json.loads(res.stdout)
    assert listing["published"] == 1
    assert [(s["id"], s["status"], s["units"], s["created_by"]) for s in listing["sets"]] == [
        (2, "archived", 67, "cli"), (1, "published", 67, "system")]
    assert (data_dir / "geo_service.sqlite3").exists()


# ---------------------------------------------------------------- in-process: every option


@pytest.fixture()
def geo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """geo(*argv) -> (exit status, stdout, stderr) of ``geo-service argv`` on a temporary data dir."""
    for key in [k for k in os.environ if k.startswith("GEO_SERVICE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GEO_SERVICE_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("GEO_SERVICE_BUNDLED_SET", "admin")  # the files below carry regency parents
    capsys.readouterr()

    def run(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def _utm_shapefile_without_prj(folder: Path) -> Path:
    folder.mkdir()
    gpd.read_file(DATA / "bali_kecamatan.geojson").to_crs(32750).to_file(folder / "kec.shp")
    path = folder.parent / "kec_utm.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.suffix != ".prj":
                zf.write(f, f.name)
    return path


def test_cli_options_errors_and_rollback(geo: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    kec = str(DATA / "bali_kecamatan.geojson")
    status, out, err = geo("boundaries", "import", kec, "--level", "polsek", "--json")
    assert status == 0, err
    draft = json.loads(out)
    assert (draft["id"], draft["status"], draft["units"], draft["source"]) == (2, "draft", 67, "cli")
    assert draft["report"]["fields"]["used"]["code_field"] == "kode"

    status, out, _ = geo("boundaries", "diff", "2", "--limit", "3")
    assert status == 0 and out.startswith("set 2 against 1: 0 added, 0 removed, 57 changed")
    assert "changed  51.01.01" in out and "(54 more;" in out
    status, out, _ = geo("boundaries", "diff", "2", "--json")
    assert json.loads(out)["summary"] == {"added": 0, "removed": 0, "changed": 57}

    # A file refused for its CRS: the draft is kept, --publish fails with the problem code.
    utm = _utm_shapefile_without_prj(tmp_path / "utm")
    status, out, err = geo("boundaries", "import", str(utm), "--level", "polsek", "--publish")
    assert status == 1 and "boundary set 3 (draft)" in out and "error   MISSING_CRS" in out
    assert "geo-service: SET_HAS_ERRORS:" in err
    # The same file with the CRS and fields named is publishable.
    status, out, err = geo("boundaries", "import", str(utm), "--level", "polsek", "--crs", "EPSG:32750",
                           "--code-field", "kode", "--name-field", "nama", "--parent-field", "kode_kab",
                           "--name", "Bali UTM", "--publish")
    assert status == 0 and "boundary set 4 published" in out, err

    # A mapping CSV: Polsek Kuta Raya from Kuta and Kuta Selatan, the rest 1:1.
    kec_gdf = gpd.read_file(kec)
    lines = ["unit_code,unit_name,level,parent_code,area_code", "51.03.01,Polsek Kuta Raya,polsek,51.03,51.03.01;51.03.05"]
    lines += [f"{c},Polsek {n},polsek,{p},{c}" for c, n, p in zip(kec_gdf["kode"], kec_gdf["nama"], kec_gdf["kode_kab"],
                                                                  strict=True) if c not in ("51.03.01", "51.03.05")]
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("\n".join(lines) + "\n")
    status, out, err = geo("boundaries", "import", kec, "--mapping", str(mapping), "--publish")
    assert status == 0 and "boundary set 5 (draft): 66 units, 0 errors" in out, (out, err)

    status, out, _ = geo("stations", "import", str(stations_csv(tmp_path / "pos.csv")), "--publish")
    assert status == 0 and "station set 2 published" in out
    status, out, _ = geo("stations", "list")
    assert status == 0 and "published" in out.splitlines()[1] and "archived" in out.splitlines()[2]

    # Unknown ids and files are one-line errors with a code.
    assert geo("boundaries", "publish", "99")[0:3:2] == (1, "geo-service: NOT_FOUND: boundary set 99 does not exist\n")
    status, _, err = geo("boundaries", "import", str(tmp_path / "nope.zip"), "--level", "polsek")
    assert status == 1 and "FILE_MISSING" in err
    status, _, err = geo("stations", "publish", "99")
    assert status == 1 and "NOT_FOUND" in err

    status, out, _ = geo("boundaries", "list")
    rows = out.splitlines()[1:]
    # Sets 4 and 1 still answer "at" lookups of the moments between their publication and the next one's
    # (registry.set_in_force): their status says so (history), archived is a set that answers no moment.
    assert [r.split()[:3] for r in rows] == [["5", "published", "66"], ["4", "history", "67"], ["3", "draft", "10"],
                                             ["2", "draft", "67"], ["1", "history", "67"]]

    # The service answers from what the CLI published; a CLI rollback brings the old answer back.
    app = make_app("sqlite", tmp_path / "instance")
    try:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {make_token(app, 'admin')}"}
        answer = client.post("/api/v1/locate", json=KUTA, headers=headers).get_json()
        assert answer["boundary_set"] == 5
        assert answer["jurisdiction"]["polsek"] == {"code": "51.03.01", "name": "Polsek Kuta Raya"}
        assert answer["stations"][0]["code"] == "CLI-KUTA"
        assert geo("boundaries", "publish", "1")[0] == 0
        answer = client.post("/api/v1/locate", json=KUTA, headers=headers).get_json()
        assert answer["boundary_set"] == 1 and answer["jurisdiction"]["polsek"]["name"] == "Polsek Kuta"
    finally:
        dispose_app(app)


# ---------------------------------------------------------------- every worker sees a publish


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(method: str, url: str, token: str, body: bytes | None = None,
          content_type: str = "application/json") -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    buf = io.BytesIO()
    for name, value in fields.items():
        buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
              "Content-Type: application/octet-stream\r\n\r\n".encode())
    buf.write(data + f"\r\n--{boundary}--\r\n".encode())
    return buf.getvalue(), f"multipart/form-data; boundary={boundary}"


def _streak(base: str, token: str, expected: Callable[[dict[str, Any]], bool], *, want: int = 30,
            timeout_s: float = 30.0) -> tuple[int, list[Any]]:
    """Locate until ``want`` answers in a row satisfy ``expected`` (or the time is up)."""
    streak, seen = 0, []
    deadline = time.monotonic() + timeout_s
    body = json.dumps(KUTA).encode()
    while streak < want and time.monotonic() < deadline:
        # A new connection per request: the kernel hands them to whichever worker accepts.
        status, answer = _http("POST", base + "/api/v1/locate", token, body)
        assert status == 200, answer
        ok = expected(answer)
        streak = streak + 1 if ok else 0
        seen.append((answer["boundary_set"], answer["jurisdiction"]["polsek"]["name"]))
        if not ok:
            time.sleep(0.05)
    return streak, seen


@pytest.mark.slow
def test_publish_reaches_every_worker(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "instance")
    res = run_console(["token", "create", "--role", "admin", "--name", "workers-admin"], env)
    assert res.returncode == 0, res.stderr
    token = res.stdout.strip().splitlines()[-1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--workers", "3"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"geo-service serve did not come up: {out[-2000:]}")
                time.sleep(0.2)

        doc = json.loads((DATA / "bali_kecamatan.geojson").read_bytes())
        for f in doc["features"]:
            f["properties"]["nama"] = f"Polsek {f['properties']['nama']} (baru)"
        body, ctype = _multipart({"level": "polsek"}, "kecamatan_baru.geojson", json.dumps(doc).encode())
        status, created = _http("POST", base + "/api/v1/boundary-sets", token, body, ctype)
        assert status == 201 and not created["has_errors"], created
        new_id = created["id"]
        status, published = _http("POST", f"{base}/api/v1/boundary-sets/{new_id}/publish", token)
        assert status == 200, published

        streak, seen = _streak(base, token, lambda a: a["boundary_set"] == new_id
                               and a["jurisdiction"]["polsek"]["name"] == "Polsek Kuta (baru)")
        assert streak == 30, seen[-40:]

        status, _ = _http("POST", f"{base}/api/v1/boundary-sets/1/publish", token)
        assert status == 200
        streak, seen = _streak(base, token, lambda a: a["boundary_set"] == 1
                               and a["jurisdiction"]["polsek"]["name"] == "Polsek Kuta")
        assert streak == 30, seen[-40:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
