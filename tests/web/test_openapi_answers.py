"""The OpenAPI document tells the truth: real answers of every documented operation validate against it.

One fresh app per backend is driven through every operation (success and the main error answers,
``tests/web/openapi_exchanges.py``); each answer must have a documented status and content type, and
its body must validate against the generated schema (answer types forbid undocumented fields, so a
field the service adds without documenting it fails here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import dispose_app, make_app
from tests.web.openapi_exchanges import Exchange, run_exchanges

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
JSON_TYPES = ("application/json", "application/geo+json", "application/problem+json")


@dataclass(frozen=True)
class Driven:
    """The app, its OpenAPI document and every exchange of one run through the API."""

    app: Any
    document: dict[str, Any]
    exchanges: list[Exchange]


@pytest.fixture(scope="module")
def driven(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driven]:
    """One run through the API on a fresh app (with the gazetteer, so places answer)."""
    app = make_app(backend, tmp_path_factory.mktemp(f"openapi-answers-{backend}"), load_places=True)
    try:
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        yield Driven(app, document, run_exchanges(app))
    finally:
        dispose_app(app)


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operation(document: dict[str, Any], ex: Exchange) -> dict[str, Any]:
    path = _path(ex.rule)
    assert path in document["paths"], f"{ex.rule} is not documented"
    op = document["paths"][path].get(ex.method.lower())
    assert op is not None, f"{ex.method} {ex.rule} is not documented"
    return op  # type: ignore[no-any-return]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    # The components travel with the schema so that "#/components/schemas/..." resolves.
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


def _errors(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path)) or '/'}: {e.message}"[:300]
            for e in _validator(document, schema).iter_errors(instance)]


def test_every_answer_validates_against_the_document(driven: Driven) -> None:
    document, exchanges = driven.document, driven.exchanges
    failures: list[str] = []
    for ex in exchanges:
        op = _operation(document, ex)
        where = f"{ex.method} {ex.url} -> {ex.status} {ex.mimetype}"
        documented = op["responses"].get(str(ex.status))
        if documented is None:
            failures.append(f"{where}: status not documented (only {sorted(op['responses'])})")
            continue
        media = documented.get("content", {}).get(ex.mimetype)
        if media is None:
            failures.append(f"{where}: content type not documented ({sorted(documented.get('content', {}))})")
            continue
        if ex.mimetype in JSON_TYPES:
            instance = json.loads(ex.body)
        elif ex.mimetype.startswith("text/"):
            instance = ex.body.decode()
        else:
            continue  # binary (xlsx): the content type is the contract
        failures += [f"{where}: {e}" for e in _errors(document, media["schema"], instance)[:5]]
    assert not failures, "answers that do not match the OpenAPI document:\n" + "\n".join(failures[:40])


def test_every_request_body_sent_is_documented(driven: Driven) -> None:
    document, exchanges = driven.document, driven.exchanges
    for ex in exchanges:
        if ex.request_mimetype is None or ex.status == 415:
            continue
        op = _operation(document, ex)
        assert "requestBody" in op, f"{ex.method} {ex.rule} takes a body but documents none"
        assert ex.request_mimetype in op["requestBody"]["content"], (ex.method, ex.rule, ex.request_mimetype)


def test_every_documented_operation_was_driven(driven: Driven) -> None:
    document, exchanges = driven.document, driven.exchanges
    succeeded = {(_path(ex.rule), ex.method.lower()) for ex in exchanges if ex.status < 400}
    failed = {(_path(ex.rule), ex.method.lower()) for ex in exchanges if ex.status >= 400}
    missing = [(path, method) for path, ops in document["paths"].items() for method in ops
               if (path, method) not in succeeded]
    assert not missing, f"operations never answered with success: {missing}"
    # The main error answers too: every operation that takes a body or an id is driven into one.
    without_error = [(path, method) for path, ops in document["paths"].items() for method, op in ops.items()
                     if ("requestBody" in op or "{" in path) and (path, method) not in failed]
    assert not without_error, f"operations never driven into an error: {without_error}"


def test_every_operation_declares_its_bodies_and_answers(driven: Driven) -> None:
    document = driven.document
    for path, ops in document["paths"].items():
        assert path.startswith(("/api/", "/health", "/l/", "/p/")), path
        for method, op in ops.items():
            name = f"{method.upper()} {path}"
            success = [s for s in op["responses"] if s.startswith("2")]
            assert success, f"{name}: no success answer"
            for status, answer in op["responses"].items():
                for ct, media in answer.get("content", {}).items():
                    assert media.get("schema"), f"{name} {status} {ct}: no schema"
                    if status.startswith(("4", "5")) or status == "default":
                        assert ct == "application/problem+json", f"{name} {status}: errors are problem+json"
            if method in ("post", "patch", "put") and "requestBody" in op:
                for ct, media in op["requestBody"]["content"].items():
                    assert media.get("schema"), f"{name} body {ct}: no schema"
            if "security" in op:
                assert {"401", "403"} <= set(op["responses"]), f"{name}: 401/403 not documented"
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "415"} <= set(op["responses"]), f"{name}: 400/415 not documented"


def test_every_json_route_is_documented(driven: Driven) -> None:
    """Every /api/ route, /health and the public JSON posts (caller's answer, officer's tap) are operations."""
    document = driven.document
    for rule in driven.app.url_map.iter_rules():
        json_post = rule.rule.startswith(("/l/", "/p/")) and "POST" in (rule.methods or ())
        if not (rule.rule.startswith("/api/") or rule.rule == "/health" or json_post):
            continue
        ops = document["paths"].get(_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if json_post and method != "POST":
                continue
            assert method.lower() in ops, f"{method} {rule.rule} is not documented"


def test_locate_takes_the_typed_answer_once_it_exists(sqlite_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook for issue 13's typed answer: services.answers' types replace the hand-written schemas."""
    import sys
    import types

    import msgspec

    from geo_service.web.openapi import build_openapi

    class LocateQuery(msgspec.Struct, kw_only=True):
        text: str | None = None

    class LocateAnswer(msgspec.Struct, kw_only=True):
        status: str

    fake = types.ModuleType("geo_service.services.answers")
    fake.LocateQuery, fake.LocateAnswer = LocateQuery, LocateAnswer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "geo_service.services.answers", fake)
    sqlite_app.extensions.pop("openapi_document", None)
    document = build_openapi(sqlite_app)
    sqlite_app.extensions.pop("openapi_document", None)
    op = document["paths"]["/api/v1/locate"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LocateQuery"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LocateAnswer"}
    batch = document["paths"]["/api/v1/locate/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["items"] == {"$ref": "#/components/schemas/LocateQuery"}
    assert document["components"]["schemas"]["LocateAnswer"]["required"] == ["status"]
    validate = document["paths"]["/api/v1/coordinates/validate"]["post"]  # not provided: stays hand-written
    assert validate["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LocationBody"}
