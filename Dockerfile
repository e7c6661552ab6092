# syntax=docker/dockerfile:1
# One image for web (gunicorn), worker and beat (celery): see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint's native libraries and a font for PDFs; gettext's msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. `packages = []`: this installs
# only the dependencies; the code runs from /app. (README.md* : the build only warns without it.)
COPY pyproject.toml requirements.lock README.md* ./
RUN pip install -c requirements.lock .

# The code belongs to root: the app user can write only to /app/var (VAR_DIR).
COPY . .

# A throwaway key: the settings refuse to load without one when DEBUG is off. It is not kept in
# the image (only this command line is).
RUN set -eu; \
    export DEBUG=false SECRET_KEY="build-$(python -c 'import secrets; print(secrets.token_urlsafe(64))')"; \
    if find . -path ./.venv -prune -o -path '*/LC_MESSAGES/*.po' -print | grep -q .; then \
        python manage.py compilemessages --ignore=.venv; \
    fi; \
    python manage.py collectstatic --noinput --verbosity 1; \
    mkdir -p /app/var/media; \
    chown -R app:app /app/var

USER app

EXPOSE 8000

# Sync workers (measured best here); WEB_CONCURRENCY sets their number. Extra gunicorn flags go
# in GUNICORN_CMD_ARGS (e.g. "--access-logfile -"). /dev/shm keeps worker heartbeats off the
# overlay filesystem.
CMD ["sh", "-c", "exec gunicorn citedesmetiers.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2} --worker-class sync --worker-tmp-dir /dev/shm"]
