# geo_service: one image for the API, the pages and the CLI.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
COPY maps ./maps
RUN pip install . && useradd --system --home /app geo && mkdir -p /data && chown geo /data
USER geo
ENV GEO_SERVICE_DATA_DIR=/data
EXPOSE 8000
# Migrations run before the server starts (the compose file runs `db upgrade` first as well).
CMD ["sh", "-c", "geo-service db upgrade && geo-service serve --host 0.0.0.0 --port 8000"]
