"""Exception hierarchy of geo_service.

One root (:class:`GeoServiceError`) with narrow subclasses. Each class carries the HTTP
status the web layer maps it to, a stable upper-case ``code`` and a ``title``; the
``detail`` is safe to show to a caller. No Flask here: the web layer turns these into
RFC 9457 problem+json documents.
"""

from __future__ import annotations

from typing import Any


class GeoServiceError(Exception):
    """Root of every error the service raises on purpose."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.extra = extra or {}


class ConfigError(GeoServiceError):
    """The service is configured wrongly; raised at start-up with one line saying what to fix."""

    code = "CONFIG_ERROR"
    title = "Configuration error"


class BadRequest(GeoServiceError):
    """The request itself is malformed (wrong JSON, wrong types)."""

    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"


class InvalidInput(GeoServiceError):
    """The request is well-formed but a value in it cannot be used."""

    status = 422
    code = "INVALID_INPUT"
    title = "Invalid input"


class CoordinateInvalid(InvalidInput):
    """A coordinate text could not be parsed (the documented refusal of the parser)."""

    code = "COORDINATE_INVALID"
    title = "Coordinate not understood"


class UnknownCRS(InvalidInput):
    """A ``crs`` value names no coordinate reference system we know."""

    code = "UNKNOWN_CRS"
    title = "Unknown coordinate reference system"


class BoundaryFileError(InvalidInput):
    """An uploaded boundary or station file cannot be read safely."""

    code = "BOUNDARY_FILE_INVALID"
    title = "Boundary file rejected"


class Unauthorized(GeoServiceError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Authentication required"


class Forbidden(GeoServiceError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class NotFound(GeoServiceError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class Conflict(GeoServiceError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"


class Gone(GeoServiceError):
    status = 410
    code = "GONE"
    title = "Gone"


class PayloadTooLarge(GeoServiceError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    title = "Payload too large"


class UnsupportedMediaType(GeoServiceError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"


class RateLimited(GeoServiceError):
    status = 429
    code = "RATE_LIMITED"
    title = "Too many requests"


class ServiceUnavailable(GeoServiceError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"
