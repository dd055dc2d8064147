"""Configuration: env variables, generated secret key, clear one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo_service.config import load_settings
from geo_service.errors import ConfigError


def test_defaults_use_embedded_sqlite_in_data_dir(tmp_path: Path) -> None:
    s = load_settings(env={"GEO_SERVICE_DATA_DIR": str(tmp_path)})
    assert s.backend == "sqlite"
    assert s.database_url == f"sqlite:///{tmp_path / 'geo_service.sqlite3'}"
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == s.secret_key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # the same key is read back next time
    assert load_settings(env={"GEO_SERVICE_DATA_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_postgres_url_normalised_and_needs_secret(tmp_path: Path) -> None:
    env = {"GEO_SERVICE_DATA_DIR": str(tmp_path), "GEO_SERVICE_DATABASE_URL": "postgresql://u@127.0.0.1/db"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(env=env)
    env["GEO_SERVICE_SECRET_KEY"] = "x" * 32
    s = load_settings(env=env)
    assert s.backend == "postgresql" and s.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GEO_SERVICE_DATABASE_URL": "not a url"}, "is not a database URL"),
        ({"GEO_SERVICE_DATABASE_URL": "mysql://x@y/z"}, "not supported"),
        ({"GEO_SERVICE_BORDER_SHARE": "2"}, "BORDER_SHARE"),
        ({"GEO_SERVICE_LOAD_BUNDLED": "maybe"}, "not a boolean"),
        ({"GEO_SERVICE_TILE_URL": "https://x/tiles.png"}, "{z}"),
    ],
)
def test_bad_values_are_config_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    env = {"GEO_SERVICE_DATA_DIR": str(tmp_path), **env}
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "geo_service.cli", *args], env=full, capture_output=True,
                          text=True, timeout=60)


def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_cli(["db", "upgrade"], {"GEO_SERVICE_DATA_DIR": str(blocker / "sub")})
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0, res.stderr
    assert "GEO_SERVICE_DATA_DIR" in res.stderr and "Traceback" not in res.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    res = run_cli(["db", "upgrade"], {"GEO_SERVICE_DATA_DIR": str(tmp_path), "GEO_SERVICE_SECRET_KEY": "k" * 32,
                                      "GEO_SERVICE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    assert res.returncode == 2
    assert res.stderr.startswith("geo-service: error: cannot reach the database"), res.stderr
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr


def test_bad_url_is_one_line(tmp_path: Path) -> None:
    res = run_cli(["serve"], {"GEO_SERVICE_DATA_DIR": str(tmp_path), "GEO_SERVICE_DATABASE_URL": "bogus"})
    assert res.returncode == 2 and "is not a database URL" in res.stderr
    assert res.stderr.strip().count("\n") == 0
