#!/bin/sh
# Container entry point: prepare (migrate, start-up steps), then serve; or run any
# manage.py command. `prepare` alone is what tests/e2e/test_compose.py runs.
set -eu

prepare() {
  python manage.py migrate --no-input
  python manage.py createcachetable
  # A service's own start-up steps, one manage.py command per line of STARTUP_COMMAND
  # (users registers the service clients).
  while IFS= read -r step; do
    if [ -n "${step}" ]; then
      # shellcheck disable=SC2086  # a step is meant to be split into words
      python manage.py ${step} </dev/null
    fi
  done <<STEPS
${STARTUP_COMMAND:-}
STEPS
}

case "${1:-serve}" in
  prepare)
    prepare
    ;;
  serve)
    prepare
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
