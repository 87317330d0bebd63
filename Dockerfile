# One image recipe for every service: `docker build --build-arg SERVICE=users .`
# compose.yaml builds it four times, once per service.
FROM python:3.11-slim

ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOUK_ENV=production \
    SOUK_SERVICE=${SERVICE} \
    STATIC_ROOT=/app/staticfiles \
    LOG_FORMAT=json

WORKDIR /app
# Dependencies first, from the pyproject.toml files alone: a change to the source
# reuses this layer, and only a change to a dependency list installs them again.
COPY docker/dependencies.py /tmp/dependencies.py
COPY libs/common/pyproject.toml /app/libs/common/pyproject.toml
COPY services/${SERVICE}/pyproject.toml /app/services/${SERVICE}/pyproject.toml
RUN python /tmp/dependencies.py /app/libs/common/pyproject.toml \
        /app/services/${SERVICE}/pyproject.toml > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/dependencies.py /tmp/requirements.txt \
    && useradd --system --no-create-home --uid 10001 souk

# Then the source, with nothing to resolve or download (the build backend is already
# installed); pip check proves every declared dependency is there.
COPY libs/common /app/libs/common
COPY services/${SERVICE} /app/services/${SERVICE}
RUN pip install --no-deps --no-build-isolation /app/libs/common /app/services/${SERVICE} \
    && pip check

WORKDIR /app/services/${SERVICE}
# Static files (admin, Swagger UI) are collected at build time and served by WhiteNoise.
RUN SOUK_ENV=development SOUK_VAR_DIR=/tmp/build python manage.py collectstatic --no-input -v0 \
    && rm -rf /tmp/build
COPY docker/entrypoint.sh /usr/local/bin/souk-entrypoint
USER souk
EXPOSE 8000
ENTRYPOINT ["souk-entrypoint"]
CMD ["serve"]
