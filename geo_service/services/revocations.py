"""Revoked credentials kept in memory (and in Redis when configured), so revocations hold during a
database outage (issue 12, item 7).

While the database answers, it is the authority: every credential is checked against its row.
When it is away, the web layer may answer from a cache of credentials verified before the
outage; that cache must not bring back a credential revoked meanwhile, also one revoked by
another process or host. So each process keeps the set of revoked credentials:

* a revocation made through this process is added at once (and to Redis, shared by every
  replica, when ``GEO_SERVICE_REDIS_URL`` is set);
* every ``SYNC_INTERVAL_S`` seconds, while the database answers, the process reads what was
  revoked since its last read (tokens, officer links, login sessions), so a revocation made
  anywhere is known here within that interval, Redis or not.

Kinds and keys: ``token`` -> SHA-256 of the bearer token, ``link`` -> officer-link ``jti``,
``session`` -> SHA-256 of the login-session key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from geo_service.storage import credentials
from geo_service.storage.types import utcnow

LOGGER = logging.getLogger(__name__)
SYNC_INTERVAL_S = 2.0
# Rows are read again this long after their revocation: revocations written by hosts whose
# clocks run behind, or by transactions that committed late, are not missed.
SYNC_OVERLAP = timedelta(minutes=5)
KINDS = ("token", "link", "session")
# Above this many keys the list is read again from scratch (expired links and sessions drop out).
MAX_KEYS = 200_000
REDIS_KEY = "geo_service:revoked:{kind}"


class RevocationList:
    """The revoked credentials this process knows of."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._revoked: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self._lock = threading.Lock()
        self._synced_until: datetime | None = None
        self._last_sync = float("-inf")
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def add(self, kind: str, key: str) -> None:
        """Record a revocation made through this process (and share it through Redis)."""
        with self._lock:
            self._revoked[kind].add(key)
        if self._redis is not None:
            import redis

            try:
                self._redis.sadd(REDIS_KEY.format(kind=kind), key)
            except redis.RedisError:
                LOGGER.warning("could not share a %s revocation through Redis; other hosts learn it from the "
                               "database within %s s", kind, SYNC_INTERVAL_S)

    def is_revoked(self, kind: str, key: str, *, ask_redis: bool = False) -> bool:
        """True when the credential is known to be revoked (Redis is asked only when ``ask_redis``)."""
        with self._lock:
            if key in self._revoked[kind]:
                return True
        if ask_redis and self._redis is not None:
            import redis

            try:
                return bool(self._redis.sismember(REDIS_KEY.format(kind=kind), key))
            except redis.RedisError:
                return False
        return False

    def maybe_sync(self, open_session: Callable[[], Session], *, force: bool = False) -> bool:
        """Read revocations made since the last read, at most every ``SYNC_INTERVAL_S`` s.

        Returns False when the database could not be read (the known revocations stay).
        """
        now = time.monotonic()
        if not force and now - self._last_sync < SYNC_INTERVAL_S:
            return True
        self._last_sync = now
        started = utcnow()
        since = self._synced_until - SYNC_OVERLAP if self._synced_until is not None else None
        full = since is None or sum(len(keys) for keys in self._revoked.values()) > MAX_KEYS
        if full:
            since = None
        try:
            with open_session() as session:
                found = credentials.revoked_since(session, since, started)
        except SQLAlchemyError as exc:
            LOGGER.warning("revocation list not refreshed (database away): %s", str(exc).splitlines()[0])
            return False
        with self._lock:
            for kind, keys in found.items():
                # A full read replaces the list: every revocation made so far is in the database.
                self._revoked[kind] = keys if full else self._revoked[kind] | keys
            self._synced_until = started
        return True
