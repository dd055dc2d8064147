"""Rate limits on the ``limits`` library (the engine of Flask-Limiter): Redis when configured
(shared by every worker and replica), in-process otherwise.

We use ``limits`` directly rather than Flask-Limiter's decorators: the login limits are keyed
by client *and* by account inside the login flow (only failed attempts count against an
account), and this layer must not import Flask. The storage URIs are Flask-Limiter's own
(``redis://``, ``memory://``), so moving to its decorators later changes no deployment.

The limits of the login form (issue 12, item 6), in one place:

* per client address: ``LOGIN_PER_CLIENT`` attempts (right or wrong) per window; behind a
  proxy the address comes from ``X-Forwarded-For`` only when ``GEO_SERVICE_TRUSTED_PROXIES``
  says how many proxies to trust (otherwise every client behind nginx would share one bucket,
  and a forged header would give an attacker a fresh bucket per request);
* per account: ``LOGIN_PER_ACCOUNT`` *failed* attempts per window from browsers that have not
  logged in to that account before. A browser that has (it holds the signed device cookie set
  at login) is not held by the account limit, only by its own per-client limit: an attacker
  guessing the admin's password from elsewhere locks out only other unknown browsers, never
  the admin at their usual desk (OWASP "device cookies").

Without Redis each worker counts on its own: configure Redis for more than one worker.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

LOGGER = logging.getLogger(__name__)
LOGIN_PER_CLIENT = (10, 60)  # attempts, seconds
LOGIN_PER_ACCOUNT = (20, 15 * 60)  # failed attempts from unknown browsers, seconds
OFFICER_PAGE_PER_CLIENT = (120, 60)
REDIS_PREFIX = "geo_service:rl"


class RateLimiter(Protocol):
    """hit/test(key, limit, window_s) -> (allowed, seconds until the window resets)."""

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]: ...

    def test(self, key: str, limit: int, window_s: int) -> tuple[bool, int]: ...


class _LimitsRateLimiter:
    """Fixed windows (starting at the first hit of a key) on a ``limits`` storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._strategy = FixedWindowRateLimiter(storage)

    def _retry(self, item: RateLimitItem) -> int:
        reset = self._strategy.get_window_stats(item).reset_time
        return max(1, math.ceil(reset - time.time()))

    @staticmethod
    def _item(key: str, limit: int, window_s: int) -> RateLimitItem:
        # The key as the item's namespace: Redis keys read geo_service:rl:<key>/<limit>/<window>/second.
        return RateLimitItemPerSecond(limit, window_s, namespace=key)

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        """Count one attempt; False (and the wait) when it is over the limit."""
        item = self._item(key, limit, window_s)
        if self._strategy.hit(item):
            return True, 0
        return False, self._retry(item)

    def test(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        """Would one more attempt be allowed (nothing counted)?"""
        item = self._item(key, limit, window_s)
        if self._strategy.test(item):
            return True, 0
        return False, self._retry(item)


class MemoryRateLimiter(_LimitsRateLimiter):
    """Per-process counters (the embedded default; each worker counts on its own)."""

    def __init__(self) -> None:
        super().__init__(MemoryStorage())


class RedisRateLimiter(_LimitsRateLimiter):
    """Counters in Redis, shared by every worker and replica; fails open to per-process counters."""

    def __init__(self, url: str) -> None:
        storage = storage_from_string(url, wrap_exceptions=True, key_prefix=REDIS_PREFIX, socket_timeout=0.5,
                                      socket_connect_timeout=0.5)
        assert isinstance(storage, Storage)  # a redis:// URL gives the synchronous storage
        super().__init__(storage)
        self._fallback = MemoryRateLimiter()

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        try:
            return super().hit(key, limit, window_s)
        except StorageError as exc:
            LOGGER.warning("Redis unreachable, counting in this process: %s", exc)
            return self._fallback.hit(key, limit, window_s)

    def test(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        try:
            return super().test(key, limit, window_s)
        except StorageError:
            return self._fallback.test(key, limit, window_s)


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    """Redis when a URL is configured, else in-process."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
