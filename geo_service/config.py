"""Configuration: defaults, ``GEO_SERVICE_*`` environment variables, validation at start-up.

Every problem is raised as :class:`~geo_service.errors.ConfigError` with one line that says
what to fix; the CLI prints that line and exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from geo_service.errors import ConfigError

PREFIX = "GEO_SERVICE_"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class Settings:
    """Validated settings of one service instance."""

    database_url: str
    data_dir: Path
    secret_key: str
    backend: str  # "sqlite" or "postgresql"
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = "&copy; OpenStreetMap contributors"
    coastal_band_m: float = 12 * 1852.0
    border_share: float = 0.9
    max_upload_bytes: int = 50 * 1024 * 1024
    max_request_bytes: int = 64 * 1024 * 1024
    overdue_minutes: int = 60
    # 110 quick response (issue 16): call -> on scene target; "51.71=8,51.01=15" per unit; "5:10,20:20"
    # = within 5 km of the nearest station 10 min, within 20 km 20 min (farther: the last band).
    response_target_minutes: int = 10
    response_targets: str = ""
    response_target_bands: str = ""
    reload_interval_s: float = 2.0
    load_bundled: bool = True
    load_places: bool = True
    #: What the first start publishes: "structure" (the Polri structure file) or "admin" (one unit per area).
    bundled_set: str = "structure"
    sample_stations: bool = True
    auto_migrate: bool = True
    officer_link_ttl_s: int = 12 * 3600
    location_request_ttl_s: int = 30 * 60
    location_request_wait_s: float = 20.0
    redis_url: str | None = None
    secure_cookies: bool = True
    # Proxies in front of the service whose X-Forwarded-For/-Proto are believed (0: ignore them).
    trusted_proxies: int = 0
    session_ttl_s: int = 12 * 3600  # a page login lasts one shift at most
    log_level: str = "INFO"
    expand_short_links: bool = False
    #: The address callers' and officers' phones use to reach the service (``https://110.example.go.id``);
    #: empty: the address the dispatcher's own request came in on (fine when both are the same).
    public_url: str = ""
    #: Answer plain bearer-token JSON calls of locate/validate without Flask's request machinery
    #: (``web.fast_lane``; off: every request goes through Flask, with the same answers).
    fast_lane: bool = True
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return self.backend == "sqlite"


def default_workers() -> int:
    """Worker processes of ``geo-service serve``: 2 per core, at least 2 (CPU-bound lookups, short requests)."""
    return max(2, 2 * (os.cpu_count() or 1))


#: Threads per gthread worker (``GEO_SERVICE_THREADS``). A client that drips its headers or body
#: holds one thread, not a whole worker process: with sync workers six slow clients stopped the
#: service (issue 12). Lookups are CPU-bound under the GIL, so more threads add room for slow
#: clients, not speed; behind nginx (request buffering on) no slow client reaches the service.
DEFAULT_THREADS = 16


def server_threads() -> tuple[int, int]:
    """(workers, threads per worker) of this host's server, from the environment or the defaults."""
    workers = int(os.environ.get(PREFIX + "WORKERS", 0) or default_workers())
    threads = int(os.environ.get(PREFIX + "THREADS", 0) or DEFAULT_THREADS)
    return workers, threads


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _get_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return _BOOL[raw.strip().lower()]
    except KeyError:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a boolean: use true or false") from None


def _get_number(env: Mapping[str, str], name: str, default: float, cast: type = float) -> Any:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a number") from None
    if value < 0:
        raise ConfigError(f"{PREFIX}{name}={raw!r} must not be negative")
    return value


def _check_data_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"data directory {str(path)!r} is not writable ({exc.strerror}): set {PREFIX}DATA_DIR to a writable folder"
        ) from None
    return path


def _normalise_database_url(raw: str) -> tuple[str, str]:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"{PREFIX}DATABASE_URL={raw!r} is not a database URL: use postgresql+psycopg://user@host/db or sqlite:///path"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername not in ("postgresql", "postgresql+psycopg"):
            raise ConfigError(f"{PREFIX}DATABASE_URL uses driver {url.drivername!r}: use postgresql+psycopg://")
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(f"{PREFIX}DATABASE_URL must name a SQLite file (sqlite:///path/to/file.sqlite3)")
    else:
        raise ConfigError(f"{PREFIX}DATABASE_URL backend {backend!r} is not supported: use PostgreSQL/PostGIS or SQLite")
    return url.render_as_string(hide_password=False), backend


def _secret_key(env: Mapping[str, str], data_dir: Path, backend: str) -> str:
    raw = env.get(PREFIX + "SECRET_KEY")
    if raw:
        if len(raw) < 16:
            raise ConfigError(f"{PREFIX}SECRET_KEY is too short: use at least 16 random characters")
        return raw
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if backend != "sqlite":
        raise ConfigError(
            f"{PREFIX}SECRET_KEY is not set: on PostgreSQL every replica must share one secret, so set it explicitly"
        )
    key = secrets.token_urlsafe(48)
    # Written with 0600 so that only the service's user can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def parse_response_targets(per_unit: str, bands: str) -> tuple[dict[str, int], list[tuple[float, int]]]:
    """``("51.71=8,51.01=15", "5:10,20:20")`` -> ({unit: minutes}, [(km, minutes), ...] by distance)."""
    units: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in per_unit.split(","))):
        code, _, minutes = item.partition("=")
        units[code.strip()] = int(minutes)
    parsed = []
    for item in filter(None, (p.strip() for p in bands.split(","))):
        km, _, minutes = item.partition(":")
        parsed.append((float(km), int(minutes)))
    if any(m <= 0 for m in units.values()) or any(m <= 0 or km <= 0 for km, m in parsed):
        raise ValueError("targets must be positive")
    return units, sorted(parsed)


def _check_response_targets(per_unit: str, bands: str) -> None:
    try:
        parse_response_targets(per_unit, bands)
    except ValueError:
        raise ConfigError(f"{PREFIX}RESPONSE_TARGETS must look like '51.71=8,51.01=15' and "
                          f"{PREFIX}RESPONSE_TARGET_BANDS like '5:10,20:20' (km:minutes)") from None


def load_settings(env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read and validate settings from ``env`` (default: ``os.environ``) and ``overrides``.

    ``overrides`` (used by tests and ``create_app(test_config)``) take field names of
    :class:`Settings` in lower case, e.g. ``{"database_url": "sqlite:///x.db"}``.
    """
    env = dict(os.environ if env is None else env)
    overrides = dict(overrides or {})
    data_dir = Path(overrides.pop("data_dir", None) or env.get(PREFIX + "DATA_DIR") or "./instance").resolve()
    _check_data_dir(data_dir)
    raw_url = overrides.pop("database_url", None) or env.get(PREFIX + "DATABASE_URL") or ""
    if not raw_url:
        raw_url = f"sqlite:///{data_dir / 'geo_service.sqlite3'}"
    database_url, backend = _normalise_database_url(raw_url)
    secret = overrides.pop("secret_key", None) or _secret_key(env, data_dir, backend)
    tile_url = env.get(PREFIX + "TILE_URL") or DEFAULT_TILE_URL
    if tile_url.strip().lower() in ("none", "off", "false"):
        tile_url = ""  # no tile server (an intranet): maps draw the offline reference map
    elif "{z}" not in tile_url or "{x}" not in tile_url or "{y}" not in tile_url:
        raise ConfigError(f"{PREFIX}TILE_URL must contain {{z}}, {{x}} and {{y}}, or be 'none'")
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secret,
        backend=backend,
        tile_url=tile_url,
        tile_attribution=env.get(PREFIX + "TILE_ATTRIBUTION") or Settings.tile_attribution,
        coastal_band_m=_get_number(env, "COASTAL_BAND_M", 12 * 1852.0),
        border_share=_get_number(env, "BORDER_SHARE", 0.9),
        max_upload_bytes=_get_number(env, "MAX_UPLOAD_BYTES", 50 * 1024 * 1024, int),
        max_request_bytes=_get_number(env, "MAX_REQUEST_BYTES", 64 * 1024 * 1024, int),
        overdue_minutes=_get_number(env, "OVERDUE_MINUTES", 60, int),
        response_target_minutes=_get_number(env, "RESPONSE_TARGET_MINUTES", 10, int),
        response_targets=env.get(PREFIX + "RESPONSE_TARGETS", ""),
        response_target_bands=env.get(PREFIX + "RESPONSE_TARGET_BANDS", ""),
        reload_interval_s=_get_number(env, "RELOAD_INTERVAL_S", 2.0),
        load_bundled=_get_bool(env, "LOAD_BUNDLED", True),
        load_places=_get_bool(env, "LOAD_PLACES", True),
        bundled_set=env.get(PREFIX + "BUNDLED_SET") or "structure",
        sample_stations=_get_bool(env, "SAMPLE_STATIONS", True),
        auto_migrate=_get_bool(env, "AUTO_MIGRATE", True),
        officer_link_ttl_s=_get_number(env, "OFFICER_LINK_TTL_S", 12 * 3600, int),
        location_request_ttl_s=_get_number(env, "LOCATION_REQUEST_TTL_S", 30 * 60, int),
        location_request_wait_s=_get_number(env, "LOCATION_REQUEST_WAIT_S", 20.0),
        redis_url=env.get(PREFIX + "REDIS_URL") or None,
        secure_cookies=_get_bool(env, "SECURE_COOKIES", True),
        trusted_proxies=_get_number(env, "TRUSTED_PROXIES", 0, int),
        session_ttl_s=int(_get_number(env, "SESSION_HOURS", 12.0) * 3600),
        log_level=(env.get(PREFIX + "LOG_LEVEL") or "INFO").upper(),
        expand_short_links=_get_bool(env, "EXPAND_SHORT_LINKS", False),
        fast_lane=_get_bool(env, "FAST_LANE", True),
        public_url=(env.get(PREFIX + "PUBLIC_URL") or "").strip().rstrip("/"),
    )
    if settings.public_url and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#]*)?", settings.public_url):
        raise ConfigError(f"{PREFIX}PUBLIC_URL must be an http(s) address such as https://110.example.go.id")
    if settings.session_ttl_s < 60:
        raise ConfigError(f"{PREFIX}SESSION_HOURS is too short: use at least 0.02 (about a minute)")
    _check_response_targets(settings.response_targets, settings.response_target_bands)
    if settings.bundled_set not in ("structure", "admin"):
        raise ConfigError(f"{PREFIX}BUNDLED_SET must be 'structure' or 'admin'")
    if not 0 < settings.border_share <= 1:
        raise ConfigError(f"{PREFIX}BORDER_SHARE must be in (0, 1]")
    unknown = set(overrides) - set(Settings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return replace(settings, **overrides)
