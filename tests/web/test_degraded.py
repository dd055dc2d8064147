"""Failure behaviour (issue 7): the database goes away mid-run and comes back.

The service talks to PostgreSQL through a TCP proxy thread on 127.0.0.1 that the test can
cut (every open connection is closed, new ones are closed on accept) and restore, so the
shared PostgreSQL server is never stopped. While the database is away: validate and locate
answer from the in-memory index with a token verified before the outage, /health says
"degraded", writes fail with a 503 problem and leave nothing half-written. When it returns,
everything works again without a restart. Also: a publish that fails halfway leaves the
previous set published (both backends).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from geo_service.storage import repo
from geo_service.storage.models import AuditLog, BoundarySet, Incident, IncidentEvent
from geo_service.storage.types import utcnow
from geo_service.web import auth
from tests.conftest import create_pg_database, dispose_app, make_app, make_token

PG_HOST, PG_PORT = "127.0.0.1", 5432


class CuttableProxy:
    """A TCP proxy 127.0.0.1:<port> -> PostgreSQL that can be cut and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.stopped = False
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()  # "server closed the connection unexpectedly", at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self._lock:
            self._conns.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        """The database is gone: close every connection, refuse new ones."""
        self.up.clear()
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            self._close(s)

    def restore(self) -> None:
        """The database is back."""
        self.up.set()

    def stop(self) -> None:
        """Close the proxy."""
        self.stopped = True
        self.cut()
        self.listener.close()


@pytest.fixture()
def proxied_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, CuttableProxy]]:
    """An app on PostgreSQL reached through a cuttable proxy; token checks always ask the database."""
    url = create_pg_database()  # skips on a laptop without PostGIS, fails under CI=true
    proxy = CuttableProxy((PG_HOST, make_url(url).port or PG_PORT))
    proxied = make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    # No in-process freshness: every request verifies its token in the database, so the test
    # exercises the degraded path (a token verified before the outage) rather than the short cache.
    monkeypatch.setattr(auth, "TOKEN_CACHE_S", 0.0)
    auth.TOKEN_CACHE.drop()
    application = make_app("sqlite", tmp_path, database_url=proxied)
    yield application, proxy
    proxy.stop()
    application.config["_test_db_url"] = url
    dispose_app(application)
    auth.TOKEN_CACHE.drop()


def _incident_body(description: str) -> dict[str, Any]:
    return {"location": {"lat": -8.6705, "lon": 115.2126}, "category": "pencurian", "description": description,
            "reported_at": utcnow().isoformat(), "channel": "call_110"}


def _counts(app: Any) -> dict[str, int]:
    with app.extensions["geo_service"].storage.session() as s:
        return {
            "incidents": s.execute(select(func.count()).select_from(Incident)).scalar_one(),
            "events": s.execute(select(func.count()).select_from(IncidentEvent)).scalar_one(),
            "audit": s.execute(select(func.count()).select_from(AuditLog)).scalar_one(),
            "generation": repo.get_generation(s)[0],
            "published": repo.get_generation(s)[1] or 0,
        }


def _draft_copy_of_published(app: Any) -> int:
    """A second, clean boundary set (a copy of the published units) to publish."""
    with app.extensions["geo_service"].storage.transaction() as s:
        _g, set_id, _st = repo.get_generation(s)
        units = repo.load_units(s, set_id)
        return repo.create_boundary_set(s, name="copy", units=units, source="upload", created_by="test").id


def _assert_db_unavailable(resp: Any) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["code"] == "DATABASE_UNAVAILABLE" and body["request_id"]
    assert "Traceback" not in resp.get_data(as_text=True)
    assert resp.headers.get("Retry-After")


def test_database_outage_and_recovery(proxied_app: tuple[Any, CuttableProxy]) -> None:
    app, proxy = proxied_app
    client = app.test_client()
    disp = {"Authorization": f"Bearer {make_token(app, 'dispatcher')}"}
    admin = {"Authorization": f"Bearer {make_token(app, 'admin')}"}
    never_seen = {"Authorization": f"Bearer {make_token(app, 'dispatcher', name='never-used')}"}
    point = {"text": "8°40'13.8\" LS 115°12'45.4\" BT"}
    # Verify both tokens while the database is there.
    assert client.post("/api/v1/coordinates/validate", json=point, headers=disp).status_code == 200
    assert client.get("/api/v1/boundary-sets", headers=admin).status_code == 200
    assert client.post("/api/v1/incidents", json=_incident_body("before"), headers=disp).status_code == 201
    draft = _draft_copy_of_published(app)
    before = _counts(app)

    proxy.cut()
    for _ in range(3):
        r = client.post("/api/v1/coordinates/validate", json=point, headers=disp)
        assert r.status_code == 200 and r.get_json()["status"] in ("valid", "corrected")
        r = client.post("/api/v1/locate", json=point, headers=disp)
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        assert r.get_json()["jurisdiction"]["polres"]["code"] == "51.71"
    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["status"] == "degraded"
    _assert_db_unavailable(client.post("/api/v1/incidents", json=_incident_body("during"), headers=disp))
    _assert_db_unavailable(client.post(f"/api/v1/boundary-sets/{draft}/publish", headers=admin))
    # A token never verified cannot be checked now: 503, not 401 (it may well be valid).
    _assert_db_unavailable(client.post("/api/v1/locate", json=point, headers=never_seen))
    # Pages that need the database say so in HTML, without a traceback.
    r = client.get("/admin/boundaries", headers={**admin, "Accept": "text/html"})
    assert r.status_code == 503 and r.mimetype == "text/html" and "Traceback" not in r.get_data(as_text=True)

    proxy.restore()
    health = client.get("/health")
    assert health.get_json()["status"] == "ok"
    assert _counts(app) == before, "something was written while the database was away"
    r = client.post("/api/v1/incidents", json=_incident_body("after"), headers=disp)
    assert r.status_code == 201
    r = client.post(f"/api/v1/boundary-sets/{draft}/publish", headers=admin)
    assert r.status_code == 200
    assert client.get("/health").get_json()["boundary_set"] == draft
    assert client.post("/api/v1/locate", json=point, headers=never_seen).status_code == 200
    after = _counts(app)
    assert after["incidents"] == before["incidents"] + 1 and after["published"] == draft


def test_outage_in_the_middle_of_a_write_leaves_nothing(proxied_app: tuple[Any, CuttableProxy],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app, proxy = proxied_app
    client = app.test_client()
    disp = {"Authorization": f"Bearer {make_token(app, 'dispatcher')}"}
    admin = {"Authorization": f"Bearer {make_token(app, 'admin')}"}
    assert client.post("/api/v1/locate", json={"lat": -8.67, "lon": 115.21}, headers=disp).status_code == 200
    assert client.get("/api/v1/boundary-sets", headers=admin).status_code == 200
    draft = _draft_copy_of_published(app)
    before = _counts(app)

    from geo_service.services import incidents as incident_service

    real_audit = incident_service.audit

    def audit_then_cut(*args: Any, **kwargs: Any) -> None:
        proxy.cut()  # the incident row is flushed already; its event and audit rows are not
        real_audit(*args, **kwargs)

    monkeypatch.setattr(incident_service, "audit", audit_then_cut)
    _assert_db_unavailable(client.post("/api/v1/incidents", json=_incident_body("half"), headers=disp))
    monkeypatch.setattr(incident_service, "audit", real_audit)
    proxy.restore()

    real_publish = repo.publish_boundary_set

    def publish_then_cut(*args: Any, **kwargs: Any) -> int:
        generation = real_publish(*args, **kwargs)  # app_state updated in the transaction
        proxy.cut()
        return generation

    monkeypatch.setattr(repo, "publish_boundary_set", publish_then_cut)
    _assert_db_unavailable(client.post(f"/api/v1/boundary-sets/{draft}/publish", headers=admin))
    monkeypatch.setattr(repo, "publish_boundary_set", real_publish)
    proxy.restore()

    assert client.get("/health").get_json()["status"] == "ok"
    assert _counts(app) == before
    with app.extensions["geo_service"].storage.session() as s:
        assert s.get(BoundarySet, draft).status == "draft"
    assert client.get("/health").get_json()["boundary_set"] == before["published"]


def test_publish_failing_halfway_keeps_the_previous_set(fresh_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = fresh_app.test_client()
    admin = {"Authorization": f"Bearer {make_token(fresh_app, 'admin')}"}
    draft = _draft_copy_of_published(fresh_app)
    before = _counts(fresh_app)
    holder = fresh_app.extensions["geo_service"].holder
    index_before = holder.current()

    real_publish = repo.publish_boundary_set

    def publish_then_fail(*args: Any, **kwargs: Any) -> int:
        real_publish(*args, **kwargs)  # state row, statuses and audit record changed in the transaction
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(repo, "publish_boundary_set", publish_then_fail)
    r = client.post(f"/api/v1/boundary-sets/{draft}/publish", headers=admin)
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    assert "disk full" not in r.get_data(as_text=True)
    monkeypatch.setattr(repo, "publish_boundary_set", real_publish)

    assert _counts(fresh_app) == before
    with fresh_app.extensions["geo_service"].storage.session() as s:
        assert s.get(BoundarySet, draft).status == "draft"
        assert s.get(BoundarySet, before["published"]).status == "published"
        assert not s.execute(select(AuditLog).where(AuditLog.action == "boundary_set.publish",
                                                    AuditLog.target_id == str(draft))).first()
    health = client.get("/health").get_json()
    assert health["boundary_set"] == before["published"] and health["status"] == "ok"
    assert holder.current() is index_before
    # The same publish without the failure goes through.
    assert client.post(f"/api/v1/boundary-sets/{draft}/publish", headers=admin).status_code == 200
    assert client.get("/health").get_json()["boundary_set"] == draft
