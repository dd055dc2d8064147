"""Fixed-window rate limits: in-process by default, Redis when configured (shared by replicas)."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class RateLimiter(Protocol):
    """hit(key, limit, window_s) -> (allowed, seconds until the window resets)."""

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]: ...


class MemoryRateLimiter:
    """Per-process counters (the embedded default; each worker counts on its own)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        now = int(time.time())
        window = now // window_s
        with self._lock:
            if len(self._counts) > 50_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            n = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = n
        return n <= limit, (window + 1) * window_s - now


class RedisRateLimiter:
    """Counters in Redis (INCR + EXPIRE), shared by every replica; fails open if Redis is away."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._fallback = MemoryRateLimiter()

    def hit(self, key: str, limit: int, window_s: int) -> tuple[bool, int]:
        import redis

        now = int(time.time())
        window = now // window_s
        rkey = f"geo_service:rl:{key}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(rkey)
            pipe.expire(rkey, window_s + 1)
            n = int(pipe.execute()[0])
        except redis.RedisError:
            return self._fallback.hit(key, limit, window_s)
        return n <= limit, (window + 1) * window_s - now


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    """Redis when a URL is configured, else in-process."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
