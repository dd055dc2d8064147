"""geo_service: coordinate validation and police jurisdiction service for emergency dispatch (line 110).

``create_app()`` wires the layers in order: config -> storage -> index -> blueprints ->
error handlers -> CLI. Only ``geo_service.web`` imports Flask.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Any:
    """Build the Flask application (see :func:`geo_service.web.app.create_app`) with the ``flask geo`` command.

    The command line is wired here, above both, so that ``geo_service.web`` never imports
    ``geo_service.cli`` (whose ``serve`` builds the app): no import circle between them.
    """
    from geo_service.cli import register_flask_commands
    from geo_service.web.app import create_app as _create_app

    app = _create_app(test_config)
    register_flask_commands(app)
    return app
