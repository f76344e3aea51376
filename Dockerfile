# One image for the three services; docker-compose.yml picks the command.
FROM python:3.11-slim AS base
# PROMETHEUS_MULTIPROC_DIR: the uvicorn workers of one container add up their metrics
# there (rapport_common/metrics.py); the commands empty it before they start.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH PROMETHEUS_MULTIPROC_DIR=/tmp/rapport-metrics
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY rapport_common ./rapport_common
COPY services ./services
COPY migrations ./migrations
COPY alembic.ini ./
COPY deploy/local/mailcatcher.py ./deploy/local/mailcatcher.py
RUN uv sync --frozen --no-dev
RUN useradd --system --uid 10001 rapport && mkdir -p /data/mail && chown rapport /data/mail
USER rapport
EXPOSE 8000 8001
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\"; exec uvicorn services.api.main:build --factory --host 0.0.0.0 --port 8000 --workers ${RAPPORT_API__WORKERS:-2}"]
