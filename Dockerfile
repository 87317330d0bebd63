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
COPY libs/common /app/libs/common
COPY services/${SERVICE} /app/services/${SERVICE}
RUN pip install /app/libs/common /app/services/${SERVICE} \
    && useradd --system --no-create-home --uid 10001 souk

WORKDIR /app/services/${SERVICE}
# Static files (admin, Swagger UI) are collected at build time and served by WhiteNoise.
RUN SOUK_ENV=development SOUK_VAR_DIR=/tmp/build python manage.py collectstatic --no-input -v0 \
    && rm -rf /tmp/build
COPY docker/entrypoint.sh /usr/local/bin/souk-entrypoint
USER souk
EXPOSE 8000
ENTRYPOINT ["souk-entrypoint"]
CMD ["serve"]
