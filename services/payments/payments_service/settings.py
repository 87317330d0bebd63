"""Settings of the payments service, read from the environment (souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("payments", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["souk_common.events", "payments"],
        title="Souk payments",
        description=(
            "Charges each placed order once through the payment provider, and refunds a "
            "cancelled one; its customers and staff read the payments."
        ),
    )
)

# Who charges the cards: "mock" (test tokens, the default) or the dotted path of a
# provider class (payments.providers).
PAYMENTS_PROVIDER = env.get_str("PAYMENTS_PROVIDER", "mock")

# Tokens are verified here, statelessly, with the users service's published keys. Its
# identity with the users service (the service client "payments" there, scope users:read)
# confirms a staff member's privileges. It consumes order.placed and order.cancelled and
# publishes payment.succeeded, payment.failed and payment.refunded through the broker at
# BROKER_URL.
SOUK = {
    **env.jwt_verification(),
    **env.service_identity("payments"),
    **env.events(handlers="payments.handlers.handlers"),
}
