"""Hardening (issue 12, item 3): an answered write is on disk, and a store that turns read-only is reported.

The fault is real: a real ``geo-service serve`` (2 workers) keeps its embedded SQLite database on an
ext4 file system in a loop-mounted image (``mount -o loop,errors=remount-ro``). While a client
creates and updates incidents, the test makes the file system fail the way a dying disk does:
it writes to ext4's fault-injection switch ``/sys/fs/ext4/<loop>/trigger_fs_error``, ext4 records
an error, aborts its journal and turns read-only (``emergency_ro``); every page not yet written
back is lost. (``mount -o remount,ro`` itself is refused while the database is open for writing,
"mount point is busy", so it cannot be used to inject the fault.)

Then: ``/health`` says ``read_only`` (it said "ok" while every write failed), every write is
answered 503 problem+json ``STORAGE_READ_ONLY``, validate/locate still answer. After the server
stops the image is checked (``e2fsck``), mounted again, and every create answered 201 and every
PATCH answered 200 must be in the database. With ``PRAGMA synchronous=NORMAL`` (the old setting)
the same run loses them: in a trial every acknowledged row (and the table) was gone; with FULL
none is.

Needs root, ``losetup``/``mkfs.ext4``/``e2fsck`` and the ext4 sysfs switch; skipped without them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import need
from tests.test_multiprocess import _cli, _free_port, _stop, _wait_healthy

ROOT = Path(__file__).resolve().parents[2]
BEFORE_FAULT, AFTER_FAULT = 30, 15


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {done.stderr}")
    return done


def _can_loop_mount() -> str | None:
    if os.geteuid() != 0:
        return "needs root (loop mount)"
    for tool in ("losetup", "mkfs.ext4", "e2fsck", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    if not Path("/sys/fs/ext4").is_dir():
        return "no ext4 sysfs"
    return None


@pytest.fixture()
def loop_fs(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An ext4 image mounted with errors=remount-ro; unmounted and detached afterwards."""
    reason = _can_loop_mount()
    need(reason is None, reason or "")  # the durability regression must run in CI (it does on its machines)
    image, mnt = tmp_path / "store.img", tmp_path / "mnt"
    mnt.mkdir()
    _sh("truncate", "-s", "256M", str(image))
    _sh("mkfs.ext4", "-q", "-F", str(image))
    loop = _sh("losetup", "--find", "--show", str(image)).stdout.strip()
    try:
        switch = Path(f"/sys/fs/ext4/{Path(loop).name}/trigger_fs_error")
        mount = _sh("mount", "-o", "errors=remount-ro", loop, str(mnt), check=False)
        if mount.returncode != 0:
            need(False, f"loop mount refused: {mount.stderr.strip()}")
        if not switch.exists():
            need(False, "this kernel has no ext4 trigger_fs_error")
        yield {"image": image, "mnt": mnt, "loop": loop, "switch": switch}
    finally:
        _sh("umount", str(mnt), check=False)
        _sh("losetup", "-d", loop, check=False)


def _incident(i: int) -> dict[str, Any]:
    return {"location": {"lat": -8.65 - (i % 20) * 0.005, "lon": 115.20 + (i % 7) * 0.01},
            "category": "lainnya", "channel": "call_110", "description": f"durability {i}",
            "reported_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}


def test_acknowledged_writes_survive_a_failing_store(loop_fs: dict[str, Any]) -> None:
    data_dir = loop_fs["mnt"] / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}
    env.update(GEO_SERVICE_DATA_DIR=str(data_dir), GEO_SERVICE_LOG_LEVEL="WARNING", GEO_SERVICE_SECURE_COOKIES="false")
    token = _cli(env, "token", "create", "--role", "dispatcher", "--name", "durability").strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    log = loop_fs["mnt"].parent / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port),
                                 "--workers", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    created: dict[int, int] = {}  # id -> version last acknowledged
    refused: list[dict[str, Any]] = []
    try:
        _wait_healthy(proc, base, log)
        assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
        with requests.Session() as s:
            for i in range(BEFORE_FAULT + AFTER_FAULT):
                if i == BEFORE_FAULT:
                    loop_fs["switch"].write_text("geo_service durability test\n")
                r = s.post(base + "/api/v1/incidents", json=_incident(i), headers=headers, timeout=30)
                if r.status_code == 201:
                    created[r.json()["id"]] = 1
                else:
                    refused.append({"status": r.status_code, **r.json(), "content_type": r.headers.get("Content-Type")})
                if created and i % 3 == 2:  # update the newest acknowledged incident
                    newest = max(created)
                    p = s.patch(f"{base}/api/v1/incidents/{newest}", headers=headers, timeout=30,
                                json={"version": created[newest], "note": f"catatan {i}"})
                    if p.status_code == 200:
                        created[newest] = p.json()["version"]
                    else:
                        refused.append({"status": p.status_code, **p.json(), "content_type": p.headers.get("Content-Type")})
            assert len(created) >= BEFORE_FAULT
            assert len(refused) >= AFTER_FAULT, refused
            for problem in refused:
                assert problem["status"] == 503 and problem["content_type"] == "application/problem+json", problem
                assert problem["code"] == "STORAGE_READ_ONLY", problem
            health = s.get(base + "/health", timeout=10).json()
            assert health["status"] == "read_only" and health["writable"] is False, health
            assert "read-only" in health["detail"]
            # Reading and locating go on from the loaded index.
            r = s.post(base + "/api/v1/locate", json={"lat": -8.65, "lon": 115.22}, headers=headers, timeout=10)
            assert r.status_code == 200 and r.json()["jurisdiction"]["polda"]["code"] == "51"
    finally:
        _stop(proc)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]

    # Take the file system away (dropping every cached page), repair it and look at what is on disk.
    for _ in range(20):
        if _sh("umount", str(loop_fs["mnt"]), check=False).returncode == 0:
            break
        time.sleep(0.5)
    fsck = _sh("e2fsck", "-fy", loop_fs["loop"], check=False)
    assert fsck.returncode in (0, 1, 2), fsck.stdout + fsck.stderr
    _sh("mount", loop_fs["loop"], str(loop_fs["mnt"]))
    conn = sqlite3.connect(data_dir / "geo_service.sqlite3")
    try:
        found = dict(conn.execute("SELECT id, version FROM incidents").fetchall())
    finally:
        conn.close()
    lost = {i: v for i, v in created.items() if found.get(i, 0) < v}
    assert not lost, f"{len(lost)} of {len(created)} acknowledged writes lost: {lost}"
