#!/bin/sh
# Container entry point: prepare (migrate, start-up steps), then serve; or run any
# manage.py command. `prepare` alone is what tests/e2e/test_compose.py runs.
# The gateway has two listeners: `serve` is its public one (the proxy, on an event
# loop), `serve-admin` its admin (and later metrics) one; every other service has one.
set -eu

# One image holds every service: SOUK_SERVICE (compose sets it) names the one this
# container runs, from its folder under the working directory (the image's /app/services).
cd "${SOUK_SERVICE:?set SOUK_SERVICE to the service this container runs, e.g. users}"

# Every process writes its metrics files here (souk_common.metrics); /metrics adds them up.
# They outlive a container's restart: counts go on, and the gateway's workers drop the
# gauges of workers that died (souk_common.metrics.forget_dead_processes).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/metrics}"
mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"

prepare() {
  # The storefront keeps nothing of its own: no database to migrate.
  if [ "${SOUK_SERVICE}" = "storefront" ]; then
    return
  fi
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
      exec python -m gateway_service.serve --host 0.0.0.0 --port 8000 \
        --workers "${WEB_WORKERS:-2}"
    fi
    exec granian "${SOUK_SERVICE}_service.wsgi:application" \
      --interface wsgi --no-ws --host 0.0.0.0 --port 8000 \
      --workers "${WEB_WORKERS:-2}" --blocking-threads "${WEB_THREADS:-16}" \
      --log-level error
    ;;
  serve-admin)
    # The gateway's admin listener: its migrations ran in the gateway container.
    exec granian "${SOUK_SERVICE}_service.wsgi:application" \
      --interface wsgi --no-ws --host 0.0.0.0 --port 8000 \
      --workers 1 --blocking-threads "${WEB_THREADS:-4}" --log-level error
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
