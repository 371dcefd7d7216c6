# The image for web, worker and beat (compose.yaml). Dependencies are pinned by requirements.lock, and the
# dashboard's CSS and the report's PDF font by package-lock.json (npm registry; no CDN at run time).
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY . .
COPY --from=assets /assets/node_modules ./node_modules
RUN pip install --no-cache-dir -c requirements.lock . \
    && DEBUG=true python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
