"""Settings of the orders service, read from the environment (see souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("orders", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["souk_common.events", "orders"],
        title="Souk orders",
        description="Placing and managing orders across services.",
    )
)

# The services orders calls, and how: every call has both timeouts; idempotent calls
# are retried on connection failures and 502/503/504; a breaker per upstream opens after
# repeated failures. The saga's worst case must stay well under the reconcile grace.
USERS_URL = env.get_str("USERS_URL", "http://127.0.0.1:8001")
PRODUCTS_URL = env.get_str("PRODUCTS_URL", "http://127.0.0.1:8002")
CART_URL = env.get_str("CART_URL", "http://127.0.0.1:8004")
SHIPPING_URL = env.get_str("SHIPPING_URL", "http://127.0.0.1:8006")
ORDERS_UPSTREAMS = {
    "CONNECT_TIMEOUT": env.get_float("UPSTREAM_CONNECT_TIMEOUT", 1.0),
    "READ_TIMEOUT": env.get_float("UPSTREAM_READ_TIMEOUT", 3.0),
    "RETRIES": env.get_int("UPSTREAM_RETRIES", 2),
    "BREAKER_FAILURES": env.get_int("UPSTREAM_BREAKER_FAILURES", 5),
    "BREAKER_RESET_SECONDS": env.get_float("UPSTREAM_BREAKER_RESET_SECONDS", 5.0),
}
# How long an order may stay unsettled before reconcile_orders takes it over.
ORDERS_RECONCILE_GRACE_SECONDS = env.get_float("ORDERS_RECONCILE_GRACE_SECONDS", 30.0)
# How long a checkout waits for its payment's outcome (seconds) before reconcile_orders
# cancels it and releases its stock (a payment that succeeds later is refunded).
CHECKOUT_PAYMENT_TIMEOUT = env.get_float("CHECKOUT_PAYMENT_TIMEOUT", 900.0)

# Tokens are verified here, statelessly, with the users service's published keys. This
# service's identity with the users service (the service client "orders" there, scopes
# users:read, stock:reserve, cart:checkout and shipping:quote) gives the token its calls
# carry, and confirms a staff member's privileges. Orders publishes its events
# (order.confirmed, order.placed, order.paid, order.payment_failed, order.shipped,
# order.cancelled) to the broker at BROKER_URL, and consumes payments' and shipping's
# (orders.handlers: payment.succeeded, payment.failed, payment.refunded, shipment.created).
SOUK = {
    **env.jwt_verification(),
    **env.service_identity("orders"),
    **env.events(handlers="orders.handlers.handlers"),
}
