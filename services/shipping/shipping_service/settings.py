"""Settings of the shipping service, read from the environment (souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("shipping", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["souk_common.events", "shipping"],
        title="Souk shipping",
        description=(
            "What shipping costs (quotes, by country), and one shipment for each paid "
            "order: it consumes orders' events and publishes shipment.created."
        ),
    )
)

# Quotes price their lines with products' public catalogue (no service token): every
# call has both timeouts, is retried on connection failures and 502/503/504, and a
# breaker opens after repeated failures.
PRODUCTS_URL = env.get_str("PRODUCTS_URL", "http://127.0.0.1:8002")
SHIPPING_UPSTREAMS = {
    "CONNECT_TIMEOUT": env.get_float("UPSTREAM_CONNECT_TIMEOUT", 1.0),
    "READ_TIMEOUT": env.get_float("UPSTREAM_READ_TIMEOUT", 3.0),
    "RETRIES": env.get_int("UPSTREAM_RETRIES", 2),
    "BREAKER_FAILURES": env.get_int("UPSTREAM_BREAKER_FAILURES", 5),
    "BREAKER_RESET_SECONDS": env.get_float("UPSTREAM_BREAKER_RESET_SECONDS", 5.0),
}

# Tokens are verified here, statelessly, with the users service's published keys (the
# internal quote needs a service token with the shipping:quote scope). Shipping consumes
# orders' events (order.paid, order.cancelled) and publishes its own (shipment.created)
# through the broker at BROKER_URL.
SOUK = {
    **env.jwt_verification(),
    **env.events(handlers="shipping.handlers.handlers"),
    # Staff sign in to the admin with their users account (souk_common.staff).
    "USERS_URL": env.get_str("USERS_URL", "http://127.0.0.1:8001"),
}
