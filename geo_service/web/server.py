"""The gunicorn worker of ``geo-service serve``: gthread with a deadline on reading each request.

Issue 12: with sync workers six clients that drip their headers or body byte by byte held every
worker and the service stopped answering. gthread keeps idle kept-alive connections in a poller
(no thread) and hands a connection to a thread only when bytes arrive; but a client that keeps
dripping still holds that thread for as long as it likes. :class:`DeadlineThreadWorker` bounds
that: from the first byte of a request, its headers and body must arrive within
``read_timeout_s`` (``GEO_SERVICE_REQUEST_READ_TIMEOUT_S``, default 30 s). A request that misses
it is dropped while its headers are read, or answered 408 when the view was reading its body.

Behind nginx (``deploy/nginx.conf``: request buffering on, client header/body timeouts) no slow
client reaches the service at all; the deadline is the defence when it is exposed directly.
"""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

DEFAULT_READ_TIMEOUT_S = 30.0


class RequestReadTimeout(ConnectionResetError):
    """The client did not send its request (headers and body) within the read deadline.

    A ``ConnectionResetError`` so gunicorn closes the connection quietly (no traceback per slow client).
    """

    def __init__(self, limit_s: float) -> None:
        super().__init__(errno.ECONNRESET, f"the request was not received within {limit_s:g} s")
        self.limit_s = limit_s


class _DeadlineSocket:
    """A client socket whose ``recv`` fails once a request has taken longer than ``limit_s`` to read.

    The clock starts at the first ``recv`` after :meth:`rearm` (called for every request on a
    connection); everything else is the socket's own (writing the answer has no deadline here).
    """

    def __init__(self, sock: Any, limit_s: float) -> None:
        self._sock = sock
        self._limit_s = limit_s
        self._deadline: float | None = None

    def rearm(self) -> None:
        self._deadline = None

    def recv(self, size: int, *args: Any) -> bytes:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._limit_s
        left = self._deadline - now
        if left <= 0:
            raise RequestReadTimeout(self._limit_s)
        previous = self._sock.gettimeout()
        if previous is None and not args:
            # Usually the bytes are already there (the poller saw the socket readable): one
            # non-blocking recv, instead of switching the socket to a timeout and back around a
            # poll + recv (three more system calls, about 5 us a request).
            try:
                return bytes(self._sock.recv(size, socket.MSG_DONTWAIT))
            except BlockingIOError:
                pass  # nothing yet: wait for it within the deadline, as below
        self._sock.settimeout(left if previous is None else min(previous, left))
        try:
            return bytes(self._sock.recv(size, *args))
        except TimeoutError:
            if time.monotonic() >= self._deadline:
                raise RequestReadTimeout(self._limit_s) from None
            raise
        finally:
            self._sock.settimeout(previous)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class DeadlineThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with a per-request read deadline (see the module docstring)."""

    read_timeout_s = DEFAULT_READ_TIMEOUT_S

    def handle(self, conn: Any) -> Any:
        if not self.cfg.is_ssl:  # TLS ends at nginx; a wrapped TLS socket is left alone
            if not isinstance(conn.sock, _DeadlineSocket):
                conn.sock = _DeadlineSocket(conn.sock, self.read_timeout_s)
            conn.sock.rearm()
        return super().handle(conn)


def worker_class(read_timeout_s: float) -> type[DeadlineThreadWorker]:
    """The worker class with the given read deadline (gunicorn takes a class, not an instance)."""
    return type("DeadlineThreadWorker", (DeadlineThreadWorker,), {"read_timeout_s": float(read_timeout_s)})
