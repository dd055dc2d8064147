"""Opening short map links (``maps.app.goo.gl/...``) to find the long link they stand for.

Used only when ``GEO_SERVICE_EXPAND_SHORT_LINKS=true``; otherwise a short link is refused
with ``SHORT_LINK_UNRESOLVED`` and the dispatcher asks the caller for the full link.

Bounded on purpose (the link comes from an unknown caller):

* only short-link services are ever contacted (:data:`geo_service.geo.links.SHORT_LINK_HOSTS`);
  a redirect to a map host (:func:`geo_service.geo.links.is_map_host`) is the answer and is
  *not* opened; a redirect anywhere else is refused without a request to it;
* ``HEAD`` first, ``GET`` only when the service refuses ``HEAD``, reading at most
  :attr:`ShortLinkExpander.max_bytes` of the body (a page that names the long link);
* one deadline of :attr:`ShortLinkExpander.timeout_s` for the whole expansion (every hop and
  method): a socket timeout alone bounds each read, not a far end that trickles a byte at a time,
  so a watchdog shuts the socket when the deadline passes; at most
  :attr:`ShortLinkExpander.max_redirects` hops;
* no cookies, no credentials, nothing of the request but the link's own path is sent.

``route`` maps a host name to ``(address, port, tls)``; the default resolves the name and
uses port 443 with TLS. Tests point a short-link host at a fake server on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from geo_service import errors
from geo_service.geo import links

LOGGER = logging.getLogger(__name__)
_REDIRECTS = (301, 302, 303, 307, 308)
_BODY_LINK = re.compile(r"https?://[^\s\"'<>\\]{8,1500}")

Route = Callable[[str], tuple[str, int, bool]]


def _default_route(host: str) -> tuple[str, int, bool]:
    return host, 443, True


def _refused(detail: str, host: str) -> errors.CoordinateInvalid:
    return errors.CoordinateInvalid(detail, extra={"hint": "SHORT_LINK_UNRESOLVED", "params": {"host": host}})


@dataclass(frozen=True)
class ShortLinkExpander:
    """Callable ``expander(short_url) -> long_url``; raises ``CoordinateInvalid`` (hint
    ``SHORT_LINK_UNRESOLVED``) when the link cannot be opened within the bounds."""

    timeout_s: float = 3.0
    max_bytes: int = 32 * 1024
    max_redirects: int = 5
    route: Route = _default_route

    def __call__(self, url: str) -> str:
        current = url if "://" in url[:12] else "https://" + url
        first_host = links.short_link_host(current) or "?"
        deadline = time.monotonic() + self.timeout_s
        for _hop in range(self.max_redirects + 1):
            parts = urlsplit(current)
            host = (parts.hostname or "").lower()
            if links.short_link_host(current) is None:
                if parts.scheme in ("http", "https") and links.is_map_host(host):
                    LOGGER.debug("short link of %s expanded to a %s link", first_host, host)
                    return current
                raise _refused("The short link leads to a site that is not a map; it was not opened.", first_host)
            found = self._open(host, parts.port, parts.path or "/", parts.query, deadline)
            current = urljoin(current, found)
        raise _refused("The short link redirects too many times.", first_host)

    def _open(self, host: str, port: int | None, path: str, query: str, deadline: float) -> str:
        """The next URL: the ``Location`` of a redirect, or a map link named in the page."""
        address, default_port, tls = self.route(host)
        target = path + ("?" + query if query else "")
        for method in ("HEAD", "GET"):
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                raise _refused("The short link took too long to open.", host)
            conn: http.client.HTTPConnection
            if tls:
                conn = http.client.HTTPSConnection(address, port or default_port, timeout=left_s,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(address, port or default_port, timeout=left_s)
            watchdog: threading.Timer | None = None
            try:
                conn.connect()
                watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, (conn.sock,))
                watchdog.daemon = True
                watchdog.start()
                conn.request(method, target, headers={"Host": host, "User-Agent": "geo-service/short-link",
                                                      "Accept": "text/html"})
                resp = conn.getresponse()
                location = resp.getheader("Location")
                if resp.status in _REDIRECTS and location:
                    return location
                if method == "GET" and resp.status == 200:
                    body = resp.read(self.max_bytes).decode("utf-8", "replace")
                    for m in _BODY_LINK.finditer(body):
                        if links.is_map_host(urlsplit(m.group()).hostname or ""):
                            return m.group().replace("&amp;", "&")
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if time.monotonic() >= deadline:
                    raise _refused("The short link took too long to open.", host) from None
                raise _refused(f"The short link could not be opened ({type(exc).__name__}).", host) from None
            finally:
                if watchdog is not None:
                    watchdog.cancel()
                conn.close()
        raise _refused("The short link did not lead to a map link.", host)


def _shut(sock: socket.socket | None) -> None:
    """Watchdog: end a request that outlived its deadline (wakes a read blocked on a trickling peer)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
