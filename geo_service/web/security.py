"""Security headers for every response; CSRF and same-origin checks; trusted proxies; the
login device cookie.

CSRF (issue 12, item 4) is Flask-WTF's ``CSRFProtect``, called explicitly where it applies
(``WTF_CSRF_CHECK_DEFAULT`` off): every page form POST, and every API write made with a page
login instead of a bearer token. Such an API write must also come from this site's own pages:
its ``Origin`` header must equal the service's own origin. Bearer-token calls need neither (a
browser never attaches a bearer token on its own). Flask-WTF's Referer check for HTTPS is off:
our pages send no Referer (``Referrer-Policy: no-referrer``), and the token plus the Origin
check (on the API) already bind a write to our pages.

Trusted proxies (item 6): with ``GEO_SERVICE_TRUSTED_PROXIES=N`` (N > 0) Werkzeug's ``ProxyFix``
takes the client address and scheme from the last N ``X-Forwarded-For``/``-Proto`` hops; with
the default 0 these headers are ignored, so nobody can choose their own rate-limit bucket.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from geo_service.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEVICE_COOKIE = "geo_service_device"
DEVICE_MAX_AGE_S = 180 * 86400
DEVICE_MAX_ACCOUNTS = 8
csrf = CSRFProtect()


def init_app(app: Flask, *, trusted_proxies: int) -> None:
    """CSRF tokens (checked explicitly, see the module docstring) and the trusted proxy hops."""
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_SSL_STRICT=False,
                      # A form stays usable as long as the login; the login itself is bounded.
                      WTF_CSRF_TIME_LIMIT=None)
    csrf.init_app(app)
    app.session_interface = ApiSessionInterface()
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies)  # type: ignore[method-assign]


def csrf_token() -> str:
    """The CSRF token for this session's forms (and the ``X-CSRFToken`` header of API writes)."""
    return generate_csrf()


def check_csrf() -> None:
    """403 CSRF_FAILED unless the request carries this session's CSRF token (form field or header)."""
    try:
        csrf.protect()
    except CSRFError:
        raise Forbidden("the form has expired or did not come from this site; reload the page and try again",
                        code="CSRF_FAILED") from None


def check_same_origin() -> None:
    """403 CROSS_ORIGIN unless the ``Origin`` header is this service's own origin."""
    origin = request.headers.get("Origin", "")
    if not origin or origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("a logged-in browser may change data through the API only from this site's own pages; "
                        "other programs use a bearer token", code="CROSS_ORIGIN")


def client_address() -> str:
    """The caller's address for rate limits (the proxy's, unless proxies are trusted)."""
    return request.remote_addr or "-"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="geo_service.device.v1")


def device_accounts() -> list[str]:
    """Accounts this browser has logged in to before (from its signed device cookie)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        value: Any = _device_serializer().loads(raw, max_age=DEVICE_MAX_AGE_S)
    except BadSignature:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def remember_device(resp: BaseResponse, username: str) -> BaseResponse:
    """After a login: mark this browser as known for the account (it is then not held by the account limit)."""
    accounts = [username, *(u for u in device_accounts() if u != username)][:DEVICE_MAX_ACCOUNTS]
    resp.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(accounts), max_age=DEVICE_MAX_AGE_S, httponly=True,
                    samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return resp


def tile_origin(tile_url: str) -> str:
    """The scheme://host part of the tile URL template (for the CSP); empty without tiles."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    return f"{parts.scheme}://{host}"


def _header_values(tile_url: str, nonce: str | None) -> tuple[tuple[str, str], ...]:
    """The security headers of a response: the same for every answer but a page's CSP nonce."""
    tiles = tile_origin(tile_url)
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
    return (("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "SAMEORIGIN"), ("Referrer-Policy", "no-referrer"),
            ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"))


#: The headers of answers without a nonce (every API answer), worked out once per tile URL.
_plain_header_values = lru_cache(maxsize=8)(_header_values)
_NO_STORE = ("Cache-Control", "no-store")


def security_headers(tile_url: str, nonce: str | None, mimetype: str | None) -> tuple[tuple[str, str], ...]:
    """The security headers of an answer of this type (a page's with its nonce), in the order they are sent."""
    values = _header_values(tile_url, nonce) if nonce else _plain_header_values(tile_url, None)
    if mimetype in ("application/json", "application/problem+json", "text/csv"):
        values = (*values, _NO_STORE)
    return values


def apply_security_headers(resp: Response) -> Response:
    """CSP (own assets and the tile host only), no sniffing, no framing by others, no referrer leaks;
    ``no-store`` on JSON and CSV. A header the view set itself is kept."""
    settings = current_app.extensions["geo_service"].settings
    values = security_headers(settings.tile_url, g.get("csp_nonce"), resp.mimetype)
    headers = resp.headers
    present = {key.lower() for key, _ in headers.items()}
    for key, value in values:
        if key.lower() not in present:
            headers.add(key, value)
    return resp


class ApiSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, left closed on bearer-token API calls.

    A call carrying ``Authorization`` to ``/api/`` is authenticated by that header alone
    (``web.auth.current_principal`` never looks at the page login then), so the cookie session is
    neither read nor written: no cookie check, no Flask-Login user loading, no ``Set-Cookie``.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "Authorization" in request.headers and request.path.startswith("/api/"):
            return self.make_null_session(app)  # type: ignore[return-value]
        return super().open_session(app, request)
