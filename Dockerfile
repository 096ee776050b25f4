# syntax=docker/dockerfile:1
# One image for every role: web (gunicorn), worker (celery worker), beat (celery beat).
# docker-compose.yml chooses the role with `command:`. Configuration comes from the
# environment only; see docs/configuration.md.
FROM python:3.11-slim

# PYTHONPATH: run from the source tree. The wheel built by `pip install .` carries the
# Python packages but not templates/, static/, the instrument YAML files, the migrations
# or the management commands, so /app must come first on the import path.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media

WORKDIR /app

# Unprivileged user; the two directories it writes to are mounted as named volumes in
# docker-compose.yml, and a fresh named volume takes its owner from the image.
RUN groupadd --system --gid 10001 belonging \
    && useradd --system --uid 10001 --gid belonging --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin belonging

COPY . /app

# psycopg2-binary, argon2-cffi, numpy, scipy and pandas all ship manylinux wheels,
# so no compiler is needed. The cache mount keeps rebuilds after code changes fast.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install . \
    && rm -rf /app/build /app/*.egg-info \
    && mkdir -p /app/staticfiles /app/media \
    && chown belonging:belonging /app/staticfiles /app/media

USER belonging

EXPOSE 8000

# No HEALTHCHECK here: worker and beat use this image too and serve no HTTP.
# docker-compose.yml gives the web service its own check on /health/ready/.
CMD ["gunicorn", "belonging.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
