# One image for every service: `docker build -t souk .`. A container runs the service
# its SOUK_SERVICE names (docker/entrypoint.sh); compose.yaml builds the image once and
# runs each of its containers from it.
#
# Everything installed is what uv.lock pins, each file checked against the hash the lock
# holds; the base image and uv are pinned by digest, so a rebuild starts from the same
# bytes. To move them on, put in the digests these print (their "Digest:" line):
#   docker buildx imagetools inspect python:3.11-slim
#   docker buildx imagetools inspect ghcr.io/astral-sh/uv:0.13.0
FROM ghcr.io/astral-sh/uv:0.13.0@sha256:cdc6093146eb3ff6a40107b38f008b789e050e77ad87865e381d9917da55a168 AS uv

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/app/.venv/bin:$PATH \
    SOUK_ENV=production \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    LOG_FORMAT=json

RUN useradd --system --no-create-home --uid 10001 souk
WORKDIR /app
# Dependencies first, from the lock alone: a change to the source reuses this layer, and
# only a change to uv.lock installs them again. --frozen takes the lock as it is; the
# step after the source checks it against every pyproject.toml. uv is mounted for the
# step, never part of the image.
COPY pyproject.toml uv.lock /app/
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    uv sync --frozen --no-install-workspace --all-packages --no-default-groups --group build

# Then the source: souk-common and every service, installed with the build backend the
# lock pinned and nothing to download. --locked refuses a lock the pyproject.toml files
# have left behind (run `uv lock`).
COPY libs/common /app/libs/common
COPY services /app/services
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    uv sync --locked --all-packages --no-default-groups --group build --no-build-isolation

# Static files (admin, Swagger UI) of every service, collected at build time and served
# by WhiteNoise; the services share one lock, so a file two of them have is one file.
WORKDIR /app/services
RUN for service in */; do \
        (cd "${service}" && SOUK_ENV=development SOUK_VAR_DIR=/tmp/build \
            python manage.py collectstatic --no-input -v0) || exit 1; \
    done \
    && rm -rf /tmp/build \
    && install -d -o souk /tmp/metrics
# /tmp/metrics: the processes' metrics files (PROMETHEUS_MULTIPROC_DIR), the souk user's,
# so that a volume mounted there (the gateway's two listeners share one) is too.
COPY docker/entrypoint.sh /usr/local/bin/souk-entrypoint
USER souk
EXPOSE 8000
ENTRYPOINT ["souk-entrypoint"]
CMD ["serve"]
