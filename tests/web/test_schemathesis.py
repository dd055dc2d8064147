"""Property-based API testing with schemathesis against /api/v1/openapi.json: no operation answers 500.

Runs through the Flask app's WSGI interface (no network) with an admin token, on both backends.
Bounded: ``MAX_EXAMPLES`` cases per operation. Every documented operation is exercised,
including the multipart uploads (schemathesis builds their bodies from the schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import dispose_app, make_app, make_token

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def st_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A dedicated app (fuzzing publishes, revokes and creates things)."""
    application = make_app(backend, tmp_path_factory.mktemp(f"schemathesis-{backend}"))
    if "accounts_api" not in application.blueprints:
        from geo_service.web.accounts_api import bp

        application.register_blueprint(bp)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def api_schema(st_app: Any) -> Any:
    """The app's own OpenAPI document, loaded over WSGI."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", st_app)


def _fuzz_operation(operation: Any, st_app: Any) -> list[str]:
    """Run one operation's cases; returns the failures (method, path, status, body) found."""
    failures: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        # A fresh admin token per case: the fuzzer may revoke any token id, including the one it uses.
        token = make_token(st_app, "admin", name="schemathesis")
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"body={case.body!r:.300} query={case.query!r:.200} answer={response.text[:300]}")

    run()
    return failures


def test_no_server_errors(api_schema: Any, st_app: Any) -> None:
    failures: list[str] = []
    count = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        count += 1
        failures += _fuzz_operation(operation, st_app)
    assert count >= 20, "the OpenAPI document lost its operations"
    assert not failures, "server errors:\n" + "\n".join(failures[:20])
