# geo_service: one image for the API, the pages and the CLI.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
COPY maps ./maps
RUN pip install . && useradd --system --home /app geo && mkdir -p /data /app/.numba-cache \
    && chown geo /data /app/.numba-cache
USER geo
ENV GEO_SERVICE_DATA_DIR=/data
# The compiled geometry kernels (numba, issue 13) and the call-file reader's (issue 16) are compiled here,
# once, into a cache the service user can read: site-packages is not writable for it, and without a cache
# every process would compile them again (seconds). Building the bundled index calls each geometry kernel
# once; call_rows.warm_up() each reader kernel.
ENV NUMBA_CACHE_DIR=/app/.numba-cache
RUN python -c "from pathlib import Path; from geo_service.geo.bundled import load_bali_units; \
from geo_service.geo.index import JurisdictionIndex; JurisdictionIndex.build(load_bali_units(Path('/app/boundaries')))" \
    && python -c "from geo_service.services import call_rows; call_rows.warm_up()"
EXPOSE 8000
# Migrations run before the server starts (the compose file runs `db upgrade` first as well).
CMD ["sh", "-c", "geo-service db upgrade && geo-service serve --host 0.0.0.0 --port 8000"]
