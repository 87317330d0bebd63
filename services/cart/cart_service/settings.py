"""Settings of the cart service, read from the environment (souk_common.settings)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("cart", base_dir=BASE_DIR)

title = "Souk cart"
description = (
    "A basket for everyone, signed in or not: guests name theirs with X-Cart-ID, "
    "a signed-in user's is found from the token."
)
globals().update(common.service_settings(env, apps=["cart"], title=title, description=description))
# Ids in paths (cart.urls.IdConverter) are integers in the OpenAPI schema.
SPECTACULAR_SETTINGS = common.spectacular_settings(
    title=title,
    description=description,
    PATH_CONVERTER_OVERRIDES={
        "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
    },
)

# Where carts live (cart.stores): Redis at REDIS_URL when it is set, one hash per cart
# under CART_REDIS_KEY_PREFIX; otherwise this service's own database (the embedded store,
# SQLite under var/ in development), which every worker process shares. A cart expires
# CART_TTL_SECONDS after its last change (3 hours).
CART_REDIS_URL = env.get_str("REDIS_URL")
CART_REDIS_KEY_PREFIX = env.get_str("CART_REDIS_KEY_PREFIX", "souk:cart:")
CART_TTL_SECONDS = env.get_int("CART_TTL_SECONDS", 3 * 3600)
if CART_TTL_SECONDS < 1:
    raise ImproperlyConfigured(
        f"CART_TTL_SECONDS={CART_TTL_SECONDS}: a cart must live 1 s at least."
    )
# How long a call to Redis may take (to connect, and to answer) before the request fails.
CART_REDIS_TIMEOUT = env.get_float("CART_REDIS_TIMEOUT", 1.0)

# Names and prices come from the products service's public catalogue, one call per cart
# shown. Every call has both timeouts; it is retried on connection failures and
# 502/503/504; a breaker opens after repeated failures.
PRODUCTS_URL = env.get_str("PRODUCTS_URL", "http://127.0.0.1:8002")
CART_UPSTREAMS = {
    "CONNECT_TIMEOUT": env.get_float("UPSTREAM_CONNECT_TIMEOUT", 1.0),
    "READ_TIMEOUT": env.get_float("UPSTREAM_READ_TIMEOUT", 3.0),
    "RETRIES": env.get_int("UPSTREAM_RETRIES", 2),
    "BREAKER_FAILURES": env.get_int("UPSTREAM_BREAKER_FAILURES", 5),
    "BREAKER_RESET_SECONDS": env.get_float("UPSTREAM_BREAKER_RESET_SECONDS", 5.0),
}

# Tokens are verified here, statelessly, with the users service's published keys. The
# cart calls products' public API only, so it needs no identity of its own.
SOUK = {
    **env.jwt_verification(),
    # Staff sign in to the admin with their users account (souk_common.staff).
    "USERS_URL": env.get_str("USERS_URL", "http://127.0.0.1:8001"),
}
