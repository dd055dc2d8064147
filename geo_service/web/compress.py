"""gzip for the big text answers a page load pulls (unit GeoJSON, map scripts and styles).

A console load moved about 1 MB uncompressed, most of it text that gzip shrinks four to
eight times: map assets (Leaflet, Bootstrap, Font Awesome) and the unit outlines. Small API
answers (locate, validate) are left alone: compressing them costs more than it saves on a LAN.
Streamed answers (the batch endpoints) are never buffered here.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.http import parse_accept_header

#: Answers at least this large are compressed.
MIN_BYTES = 8 * 1024
COMPRESSIBLE = frozenset({
    "application/json", "application/geo+json", "text/html", "text/css", "text/javascript",
    "application/javascript", "image/svg+xml", "text/csv", "text/plain",
})
LEVEL = 5

_asset_cache: dict[tuple[str, float], bytes] = {}
_asset_lock = threading.Lock()


def _accepts_gzip() -> bool:
    return "gzip" in request.accept_encodings


def gzip_file(path: Path) -> bytes:
    """The gzipped bytes of a static file, compressed once per process and modification time."""
    key = (str(path), path.stat().st_mtime)
    with _asset_lock:
        hit = _asset_cache.get(key)
    if hit is None:
        hit = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        with _asset_lock:
            if len(_asset_cache) > 512:
                _asset_cache.clear()
            _asset_cache[key] = hit
    return hit


def asset_response(path: Path, resp: Response) -> Response:
    """Swap a ``send_from_directory`` answer for its gzipped bytes when that pays off."""
    if (resp.status_code != 200 or resp.mimetype not in COMPRESSIBLE or not _accepts_gzip()
            or path.stat().st_size < MIN_BYTES):
        return resp
    packed = gzip_file(path)
    resp.direct_passthrough = False
    resp.set_data(packed)
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


def gzip_answer(body: bytes, mimetype: str | None, accept_encoding: str | None) -> bytes | None:
    """The gzipped body of a buffered 200 answer when :func:`init_app`'s rule compresses it, else None
    (the fast lane's answers; the Flask path applies the same rule to its responses)."""
    if (len(body) < MIN_BYTES or mimetype not in COMPRESSIBLE
            or "gzip" not in parse_accept_header(accept_encoding)):
        return None
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


def init_app(app: Flask) -> None:
    """Compress large buffered text answers for clients that accept gzip."""

    @app.after_request
    def _compress(resp: Response) -> Response:
        small = resp.content_length is not None and resp.content_length < MIN_BYTES
        if (small or resp.status_code != 200 or resp.direct_passthrough or resp.is_streamed
                or "Content-Encoding" in resp.headers or resp.mimetype not in COMPRESSIBLE
                or not _accepts_gzip()):
            return resp
        packed = gzip_answer(resp.get_data(), resp.mimetype, request.headers.get("Accept-Encoding"))
        if packed is None:
            return resp
        resp.set_data(packed)
        resp.headers["Content-Encoding"] = "gzip"
        vary = resp.headers.get("Vary")
        resp.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
        return resp
