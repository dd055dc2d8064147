"""Security headers for every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, g


def tile_origin(tile_url: str) -> str:
    """The scheme://host part of the tile URL template (for the CSP); empty without tiles."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    return f"{parts.scheme}://{host}"


def apply_security_headers(resp: Response) -> Response:
    """CSP (own assets and the tile host only), no sniffing, no framing by others, no referrer leaks."""
    settings = current_app.extensions["geo_service"].settings
    tiles = tile_origin(settings.tile_url)
    nonce = g.get("csp_nonce")
    script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    # folium writes its map set-up as an inline <script>; pages get a per-response nonce for it.
    csp = (
        "default-src 'self'; "
        f"script-src {script_src}; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{' ' + tiles if tiles else ''}; "
        "connect-src 'self'; "
        "font-src 'self' data:; "
        "frame-src 'self'; "
        "frame-ancestors 'self'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "object-src 'none'"
    )
    resp.headers.setdefault("Content-Security-Policy", csp)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    resp.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if resp.mimetype in ("application/json", "application/problem+json", "text/csv"):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp
