"""Hardening (issue 12, item 3) on PostgreSQL: a database that turns read-only (a standby after a failover,
``default_transaction_read_only``) is reported by ``/health`` and writes answer 503 ``STORAGE_READ_ONLY``
instead of a 500. The SQLite side runs against a failing file system in tests/storage/test_durability.py.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL, dispose_app, make_app, make_token, need, postgis_available


def test_postgres_read_only_database_is_reported_and_refuses_writes(tmp_path: Path) -> None:
    need(postgis_available(), f"PostGIS not reachable at {PG_ADMIN_URL}")  # fails under CI=true
    app = make_app("postgis", tmp_path)
    try:
        token = make_token(app, "dispatcher")
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        assert client.get("/health").get_json()["status"] == "ok"
        name = make_url(app.config["_test_db_url"]).database
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        admin.dispose()
        app.extensions["geo_service"].storage.engine.dispose()  # new sessions pick up the setting
        health = client.get("/health").get_json()
        assert health["status"] == "read_only" and health["writable"] is False, health
        r = client.post("/api/v1/incidents", headers=headers, json={
            "location": {"lat": -8.65, "lon": 115.22}, "category": "lainnya", "channel": "call_110",
            "reported_at": "2026-11-28T10:00:00+08:00"})
        assert r.status_code == 503 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
        assert r.get_json()["code"] == "STORAGE_READ_ONLY"
        assert client.post("/api/v1/locate", headers=headers, json={"lat": -8.65, "lon": 115.22}).status_code == 200
    finally:
        dispose_app(app)
