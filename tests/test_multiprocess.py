"""Many hosts for real: two ``geo-service serve`` processes (2 workers each) on one PostGIS database.

A publish through one server is answered by the other within seconds (every worker polls
``app_state.generation``), and an officer link made on one opens on the other (shared secret).
PostGIS is required: the test skips on a laptop without it and FAILS under ``CI=true``. Redis
is used when it answers (shared rate limits); without it the limiter fails open per process.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import shapely
from shapely.geometry import shape

from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database, need, postgis_available

ROOT = Path(__file__).resolve().parent.parent
SECRET = "multi-host-shared-secret-0123456789abcdef"
RENAMED_CODE = "51.03.01"  # Kuta Selatan, Badung
RENAMED_NAME = "Polsek Kuta Selatan (uji replika / replica test)"
PROPAGATION_DEADLINE_S = 30.0
REDIS_URL = "redis://127.0.0.1:6379/15"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "geo_service.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait_healthy(proc: subprocess.Popen[str], base: str, log: Path, deadline_s: float = 90.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server {base} exited with {proc.returncode}: {Path(log).read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server {base} did not become healthy in {deadline_s} s")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # quick shutdown of the process group this test started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # Redis is optional here: without it the limiter fails open to per-process counters.
    need(postgis_available(), f"PostGIS not reachable at {PG_ADMIN_URL}")  # fails under CI=true
    tmp_path = tmp_path_factory.mktemp("multi-host")
    url = create_pg_database()
    env = {**os.environ, "GEO_SERVICE_DATABASE_URL": url, "GEO_SERVICE_SECRET_KEY": SECRET,
           "GEO_SERVICE_REDIS_URL": REDIS_URL, "GEO_SERVICE_DATA_DIR": str(tmp_path),
           "GEO_SERVICE_SECURE_COOKIES": "false", "GEO_SERVICE_LOG_LEVEL": "WARNING",
           # the renamed kecamatan upload carries regency parents: the administrative bundled set matches it
           "GEO_SERVICE_BUNDLED_SET": "admin"}
    procs: list[subprocess.Popen[str]] = []
    try:
        _cli(env, "db", "upgrade")
        admin = _cli(env, "token", "create", "--role", "admin", "--name", "multi-host admin").strip().splitlines()[-1]
        dispatcher = _cli(env, "token", "create", "--role", "dispatcher", "--name", "multi-host dispatcher"
                          ).strip().splitlines()[-1]
        bases: list[str] = []
        logs: list[Path] = []
        for _ in range(2):  # both replicas start together, as behind a load balancer
            port = _free_port()
            log = tmp_path / f"serve-{port}.log"
            with log.open("w") as out:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--workers", "2"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True))
            bases.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for proc, base, log in zip(procs, bases, logs, strict=True):
            _wait_healthy(proc, base, log)
        yield {"a": bases[0], "b": bases[1], "admin": admin, "dispatcher": dispatcher}
    finally:
        for proc in procs:
            _stop(proc)
        drop_pg_database(url)


def _renamed_upload() -> tuple[bytes, tuple[float, float]]:
    """The bundled Bali kecamatan as a polsek upload, one renamed; and a point inside that one."""
    doc = json.loads((ROOT / "boundaries" / "bali_kecamatan.geojson").read_text(encoding="utf-8"))
    point = None
    for feat in doc["features"]:
        props = feat["properties"]
        props["nama"] = "Polsek " + props["nama"]
        if props["kode"] == RENAMED_CODE:
            props["nama"] = RENAMED_NAME
            p = shapely.point_on_surface(shape(feat["geometry"]))
            point = (p.x, p.y)
    assert point is not None
    return json.dumps(doc).encode(), point


def _locate(base: str, token: str, lon: float, lat: float) -> dict[str, Any]:
    resp = requests.post(f"{base}/api/v1/locate", json={"lat": lat, "lon": lon},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_publish_on_one_host_is_answered_by_the_other(two_servers: dict[str, Any]) -> None:
    a, b = two_servers["a"], two_servers["b"]
    data, (lon, lat) = _renamed_upload()
    before = _locate(b, two_servers["dispatcher"], lon, lat)
    assert before["jurisdiction"]["polsek"]["code"] == RENAMED_CODE
    assert before["jurisdiction"]["polsek"]["name"] != RENAMED_NAME

    admin = {"Authorization": f"Bearer {two_servers['admin']}"}
    resp = requests.post(f"{a}/api/v1/boundary-sets", headers=admin, timeout=60,
                         files={"file": ("bali_polsek_renamed.geojson", data, "application/geo+json")},
                         data={"level": "polsek", "name": "multi-host test"})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["errors"] == 0, created["report"]["errors"]
    resp = requests.post(f"{a}/api/v1/boundary-sets/{created['id']}/publish", headers=admin, timeout=60)
    assert resp.status_code == 200, resp.text
    published_at = time.monotonic()

    seen_on_b = None
    while time.monotonic() - published_at < PROPAGATION_DEADLINE_S:
        body = _locate(b, two_servers["dispatcher"], lon, lat)
        if body["jurisdiction"]["polsek"]["name"] == RENAMED_NAME:
            seen_on_b = time.monotonic() - published_at
            # the answer that names the new unit names the new set (the next request may land on
            # B's other worker, which polls on its own clock: the streak below waits for every worker)
            assert body["boundary_set"] == created["id"]
            break
        time.sleep(0.1)
    assert seen_on_b is not None, f"host B did not answer from the new set within {PROPAGATION_DEADLINE_S} s"
    print(f"publish on host A answered by host B after {seen_on_b:.2f} s")  # shown with pytest -s
    # Soon every worker of both hosts has it (each worker polls on its own, at most every 2 s): 12
    # consecutive answers (they land on both workers of each host) all from the new set.
    deadline = time.monotonic() + PROPAGATION_DEADLINE_S
    streak = 0
    while streak < 12 and time.monotonic() < deadline:
        base = (a, b)[streak % 2]
        ok = _locate(base, two_servers["dispatcher"], lon, lat)["jurisdiction"]["polsek"]["name"] == RENAMED_NAME
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.1)
    assert streak >= 12, "not every worker answered from the new set in time"


def test_officer_link_made_on_one_host_opens_on_the_other(two_servers: dict[str, Any]) -> None:
    a, b = two_servers["a"], two_servers["b"]
    page = requests.Session()
    page.headers["Authorization"] = f"Bearer {two_servers['dispatcher']}"
    resp = page.get(f"{a}/", timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', resp.text)
    assert csrf is not None
    resp = page.post(f"{a}/", data={"csrf_token": html.unescape(csrf.group(1)), "q": "-8.7180, 115.1700",
                                    "action": "officer"}, timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    link = re.search(r'id="officer-url" href="(/p/[^"]+)"', resp.text)
    assert link is not None, "no officer link on the console page"
    path = html.unescape(link.group(1))

    opened = requests.get(f"{b}{path}", timeout=30)  # no credentials: the signed link is enough
    assert opened.status_code == 200, opened.text[:500]
    assert "Kuta" in opened.text
    tampered = requests.get(f"{b}{path[:-3]}xyz", timeout=30)
    assert tampered.status_code in (400, 403, 404)
    if _redis_up():  # the officer-page rate limit is counted in the shared Redis, not per process
        import redis

        assert redis.Redis.from_url(REDIS_URL).keys("geo_service:rl:officer:*")
