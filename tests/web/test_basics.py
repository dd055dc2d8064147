"""HTTP basics: /health, OpenAPI, problem+json, request ids."""

from __future__ import annotations

from typing import Any


def test_health_reports_backend_and_units(client: Any, backend: str) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"] == ("postgresql" if backend == "postgis" else "sqlite")
    assert body["units"] == 1 + 10 + 60  # the Polri structure: + airport Polres, + 3 port/sea Polsek
    assert isinstance(body["boundary_set"], int)


def test_openapi_lists_every_api_route(app: Any, client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = set(doc["paths"])
    import re

    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/health":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            assert path in documented, f"{rule.rule} missing from the OpenAPI document"
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path]


def test_unknown_route_is_problem_json(client: Any) -> None:
    r = client.get("/api/v1/nope", headers={"X-Request-ID": "abc123"})
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["request_id"] == "abc123" and r.headers["X-Request-ID"] == "abc123"


def test_wrong_method_is_405_problem(client: Any) -> None:
    r = client.get("/api/v1/locate")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert "POST" in r.headers["Allow"]


def test_missing_token_is_401_problem(client: Any) -> None:
    r = client.post("/api/v1/locate", json={"lat": -8.358, "lon": 114.62})
    assert r.status_code == 401
    assert r.get_json()["code"] == "AUTH_REQUIRED"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_is_401_problem(client: Any) -> None:
    r = client.post("/api/v1/locate", json={"lat": -8.358, "lon": 114.62}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_INVALID"


def test_bad_json_is_400_problem(client: Any, auth: Any) -> None:
    r = client.post("/api/v1/locate", data="{not json", headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["code"] == "JSON_INVALID"


def test_security_headers(client: Any) -> None:
    r = client.get("/health")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "tile.openstreetmap.org" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
