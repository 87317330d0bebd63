#!/bin/sh
# Container entry point: migrate, then serve (or run any manage.py command).
set -eu

case "${1:-serve}" in
  serve)
    python manage.py migrate --no-input
    python manage.py createcachetable
    # A service's own start-up step, e.g. registering service clients in users.
    if [ -n "${STARTUP_COMMAND:-}" ]; then
      # shellcheck disable=SC2086  # the command is meant to be split into words
      python manage.py ${STARTUP_COMMAND}
    fi
    if [ "${SOUK_SERVICE}" = "gateway" ]; then
      # gunicorn passes the raw request target, which the gateway checks (docs/benchmarks.md).
      exec gunicorn "${SOUK_SERVICE}_service.wsgi" \
        --bind 0.0.0.0:8000 --workers "${WEB_WORKERS:-2}" \
        --worker-class gthread --threads "${WEB_THREADS:-64}" \
        --forwarded-allow-ips "" --log-level warning
    fi
    exec granian "${SOUK_SERVICE}_service.wsgi:application" \
      --interface wsgi --no-ws --host 0.0.0.0 --port 8000 \
      --workers "${WEB_WORKERS:-2}" --blocking-threads "${WEB_THREADS:-16}" \
      --log-level error
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
