"""HTML pages (dispatcher console, officer page, admin and recap pages)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string

from geo_service.web.auth import public

bp = Blueprint("pages", __name__)

ERROR_PAGE = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ status }} {{ title }}</title>
<link rel="stylesheet" href="/maps/geo_service/app.css"></head>
<body class="error-page"><main><h1>{{ status }} — {{ title }}</h1><p>{{ detail }}</p>
<p><a href="/">Kembali ke konsol / Back to the console</a></p></main></body></html>"""


def error_page(status: int, title: str, detail: str) -> Response:
    """An HTML error page (names and details are escaped by Jinja)."""
    html = render_template_string(ERROR_PAGE, status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/")
@public
def console() -> Response:
    """Dispatcher console (full version in issue 9)."""
    return Response("<!doctype html><title>geo_service</title><h1>geo_service</h1>", mimetype="text/html")
