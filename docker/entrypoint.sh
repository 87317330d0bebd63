#!/bin/sh
# Container entry point: migrate, then serve (or run any manage.py command).
set -eu

case "${1:-serve}" in
  serve)
    python manage.py migrate --no-input
    exec granian "${SOUK_SERVICE}_service.wsgi:application" \
      --interface wsgi --no-ws --host 0.0.0.0 --port 8000 \
      --workers "${WEB_WORKERS:-2}" --blocking-threads "${WEB_THREADS:-8}" \
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
