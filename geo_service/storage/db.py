"""Engine, sessions and migrations for PostGIS or the embedded SQLite default."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from geo_service.errors import ConfigError

LOGGER = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


#: The attached in-memory schema of every SQLite connection (see make_engine).
SQLITE_STAGE_SCHEMA = "calls_stage"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets readers go on while one writer commits (several gunicorn workers).
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # FULL: every commit waits for the WAL fsync, so an answered 201 is on disk. With
            # NORMAL a commit returned before the fsync, and a storage failure lost answered
            # writes (issue 12; tests/storage/test_durability.py). Cost: bench/README.md.
            cur.execute("PRAGMA synchronous=FULL")
            # An empty in-memory schema per connection for the bulk call import, which loads each checked
            # chunk into it as a whole database image (storage.calls.CallWriter). ATTACH is refused inside a
            # transaction, so it happens here, once per connection.
            cur.execute(f"ATTACH DATABASE ':memory:' AS {SQLITE_STAGE_SCHEMA}")
            cur.close()

        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 5},
        **kwargs,
    )


def _alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with this code."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when empty)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_connection(engine: Engine, backend: str) -> None:
    """Connect once; raise ConfigError with one line when the database is not usable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if backend == "postgresql":
                has_postgis = conn.execute(
                    text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
                ).scalar_one()
                if not has_postgis:
                    raise ConfigError(
                        "PostGIS is not installed on the database server: install postgresql-15-postgis-3 (Debian)"
                    )
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        url = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot reach the database {url}: {reason}") from None


def upgrade(engine: Engine) -> None:
    """Run the Alembic migrations up to head (safe to run again)."""
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise ConfigError(f"database migration failed: {str(exc).splitlines()[0]}") from exc


#: Driver messages of a store that cannot take writes any more (read-only or failing file system,
#: full disk, a PostgreSQL standby or read-only transaction after a failover).
_WRITE_FAILURE_MARKERS = (
    "readonly database", "read-only file system", "disk i/o error", "database or disk is full",
    "unable to open database file", "read-only transaction", "recovery is in progress",
)


def is_write_failure(exc: BaseException) -> bool:
    """True when a database error means the store cannot take writes (as opposed to a bad query)."""
    orig = getattr(exc, "orig", None) or exc
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("25006", "53100"):  # read_only_sql_transaction, disk_full
        return True
    message = str(orig).lower()
    return any(marker in message for marker in _WRITE_FAILURE_MARKERS)


def probe_writable(engine: Engine, backend: str) -> str | None:
    """Why the store cannot take writes now, or None when it can (for ``/health``).

    SQLite: create, fsync and remove a small file beside the database (the file system turned
    read-only or failing answers here, although reads still work) and check the database file
    and its WAL are writable. PostgreSQL: a standby or a read-only default transaction.
    """
    if backend == "postgresql":
        with engine.connect() as conn:
            read_only, in_recovery = conn.execute(
                text("SELECT current_setting('transaction_read_only') = 'on', pg_is_in_recovery()")).one()
        if in_recovery:
            return "the database server is a standby (in recovery): it takes no writes"
        return "the database session is read-only (default_transaction_read_only)" if read_only else None
    path = engine.url.database
    if not path or path == ":memory:":
        return None
    db_file = Path(path)
    probe = db_file.parent / f".write-probe-{os.getpid()}-{threading.get_ident()}"  # one per thread
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return f"the database directory cannot be written: {exc.strerror or exc}"
    for candidate in (db_file, db_file.with_name(db_file.name + "-wal")):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return f"{candidate.name} is not writable"
    return None


class Storage:
    """The engine and the session factory of one service instance."""

    def __init__(self, database_url: str, backend: str) -> None:
        self.backend = backend
        self.engine = make_engine(database_url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new session (caller closes it)."""
        return self.sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def probe_writable(self) -> str | None:
        """Why this store cannot take writes now (None when it can); see :func:`probe_writable`."""
        return probe_writable(self.engine, self.backend)

    def dispose(self) -> None:
        """Close pooled connections (call after fork in a new worker)."""
        self.engine.dispose(close=False)
