"""Reading uploaded files from multipart forms, with the configured size limit (API and pages)."""

from __future__ import annotations

from flask import request

from geo_service.errors import BadRequest, PayloadTooLarge
from geo_service.web.context import service

#: Room for the other form fields and multipart framing around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def read_upload(field: str, *, required: bool = True) -> tuple[bytes, str] | None:
    """(content, file name) of a multipart file field; 413 over the limit, 400 when missing."""
    limit = service().settings.max_upload_bytes
    if request.content_length and request.content_length > limit + FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
    if not request.mimetype.startswith("multipart/form-data"):
        raise BadRequest("send the file as multipart/form-data", code="MULTIPART_REQUIRED")
    storage = request.files.get(field)
    if storage is None or not storage.filename:
        if required:
            raise BadRequest(f"the form field {field!r} with a file is required",
                             errors=[{"pointer": f"/{field}", "detail": "missing"}], code="FILE_MISSING")
        return None
    data = storage.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than the limit of {limit} bytes")
    return data, storage.filename
