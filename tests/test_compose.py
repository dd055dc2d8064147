"""docker-compose.yml cannot run here (no Docker engine): check its structure and wiring instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_images() -> None:
    doc = load()
    services = doc["services"]
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert "healthcheck" in services["db"]
    assert services["db"]["volumes"][0].split(":")[0] in doc["volumes"]
    assert services["geo_service"]["build"] == "."
    assert services["proxy"]["image"].startswith("nginx")
    assert services["redis"]["image"].startswith("redis")


def test_migrations_run_before_the_server() -> None:
    services = load()["services"]
    assert services["migrate"]["command"] == ["geo-service", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["geo_service"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_env_wiring_points_at_the_db_service() -> None:
    services = load()["services"]
    env = services["geo_service"]["environment"]
    assert env["GEO_SERVICE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@db:5432/" in env["GEO_SERVICE_DATABASE_URL"]
    db_env = services["db"]["environment"]
    assert db_env["POSTGRES_DB"] in env["GEO_SERVICE_DATABASE_URL"]
    assert "GEO_SERVICE_SECRET_KEY" in env and "redis://redis:6379" in env["GEO_SERVICE_REDIS_URL"]
    assert services["migrate"]["environment"] == env


def test_replicas_behind_nginx() -> None:
    services = load()["services"]
    assert services["geo_service"]["deploy"]["replicas"] >= 2
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "geo_service:8000" in conf and "proxy_pass" in conf
    assert services["proxy"]["volumes"][0].startswith("./deploy/nginx.conf:")


def test_dockerfile_installs_package_and_runs_migrations_first() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "pip install ." in text
    assert "db upgrade && geo-service serve" in text
    for folder in ("geo_service", "boundaries", "maps"):
        assert f"COPY {folder}" in text
