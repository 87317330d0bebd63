"""Settings of the gateway service, read from the environment (see souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("gateway", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env, apps=["proxy"], title="Souk gateway", description="The only public entry point."
    )
)
# The public listener is gateway_service.asgi (the proxy); the WSGI application is the
# admin listener (GATEWAY_ADMIN_PORT), which the public one never serves.
ASGI_APPLICATION = "gateway_service.asgi.application"

# Tokens are verified here, statelessly, with the users service's published keys.
SOUK = {
    **env.jwt_verification(),
    # Staff sign in to the admin with their users account (souk_common.staff).
    "USERS_URL": env.get_str("USERS_URL", "http://127.0.0.1:8001"),
}


# The proxy (proxy/app.py). Upstreams by name; routes by path prefix. Routes edited in
# the admin override these defaults by prefix, within GATEWAY_ROUTES_REFRESH_SECONDS.
GATEWAY_UPSTREAMS = {
    "users": env.get_str("USERS_URL", "http://127.0.0.1:8001"),
    "products": env.get_str("PRODUCTS_URL", "http://127.0.0.1:8002"),
    "orders": env.get_str("ORDERS_URL", "http://127.0.0.1:8003"),
    "cart": env.get_str("CART_URL", "http://127.0.0.1:8004"),
    "payments": env.get_str("PAYMENTS_URL", "http://127.0.0.1:8005"),
    "shipping": env.get_str("SHIPPING_URL", "http://127.0.0.1:8006"),
}
GATEWAY_CONNECT_TIMEOUT = env.get_float("GATEWAY_CONNECT_TIMEOUT", 1.0)
GATEWAY_READ_TIMEOUT = env.get_float("GATEWAY_READ_TIMEOUT", 10.0)
GATEWAY_MAX_BODY_BYTES = env.get_int("GATEWAY_MAX_BODY_BYTES", 1024 * 1024)
_READ_ONLY = "GET,HEAD,OPTIONS"
# Sign-in and sign-up hash a password (about a second of the users service's CPU): they
# get more time, and one client's writes there wait their turn two at a time
# (client_concurrency), so a burst from one address queues instead of filling users.
GATEWAY_ROUTES = [
    {"prefix": "/api/auth/token/", "upstream": "users", "methods": "POST,OPTIONS",
     "rate_limit_class": "sign_in", "timeout_seconds": 15, "client_concurrency": 2},
    {"prefix": "/api/auth/token/refresh/", "upstream": "users", "methods": "POST,OPTIONS",
     "timeout_seconds": 5},
    # Mailed links: a reset request mails a link, a reset's confirmation hashes a password.
    {"prefix": "/api/auth/password-reset/", "upstream": "users", "methods": "POST,OPTIONS",
     "rate_limit_class": "account_links", "timeout_seconds": 15, "client_concurrency": 2},
    {"prefix": "/api/auth/verify-email/", "upstream": "users", "methods": "POST,OPTIONS",
     "rate_limit_class": "account_links", "timeout_seconds": 5},
    {"prefix": "/api/auth/", "upstream": "users", "methods": f"{_READ_ONLY},POST",
     "timeout_seconds": 5},
    {"prefix": "/api/users/", "upstream": "users", "methods": f"{_READ_ONLY},POST,PATCH",
     "timeout_seconds": 15, "client_concurrency": 2},
    {"prefix": "/api/products/", "upstream": "products",
     "methods": f"{_READ_ONLY},POST,PUT,PATCH,DELETE", "timeout_seconds": 5},
    # The order saga calls two services, with retries: it gets more time.
    {"prefix": "/api/orders/", "upstream": "orders", "methods": f"{_READ_ONLY},POST",
     "auth_required": True, "timeout_seconds": env.get_float("GATEWAY_ORDERS_TIMEOUT", 15.0)},
    # Checkout calls cart, products and shipping before it answers, as an order does.
    {"prefix": "/api/checkout/", "upstream": "orders", "methods": "POST,OPTIONS",
     "auth_required": True, "timeout_seconds": env.get_float("GATEWAY_ORDERS_TIMEOUT", 15.0)},
    # Guests have carts: no token needed.
    {"prefix": "/api/cart/", "upstream": "cart", "methods": f"{_READ_ONLY},POST,PUT,DELETE",
     "timeout_seconds": 5},
    {"prefix": "/api/shipping/", "upstream": "shipping", "methods": f"{_READ_ONLY},POST",
     "timeout_seconds": 5},
    {"prefix": "/api/payments/", "upstream": "payments", "methods": _READ_ONLY,
     "auth_required": True, "timeout_seconds": 5},
]  # fmt: skip
GATEWAY_ROUTES_REFRESH_SECONDS = env.get_float("GATEWAY_ROUTES_REFRESH_SECONDS", 5.0)

# Fault isolation, per upstream and per worker process: at most GATEWAY_BULKHEAD_SIZE
# calls outstanding (keep it below the server's threads), and a breaker that opens after
# GATEWAY_BREAKER_FAILURES failures in a row and lets a probe through after a pause.
GATEWAY_BULKHEAD_SIZE = env.get_int("GATEWAY_BULKHEAD_SIZE", 40)
GATEWAY_BREAKER_FAILURES = env.get_int("GATEWAY_BREAKER_FAILURES", 5)
GATEWAY_BREAKER_RESET_SECONDS = env.get_float("GATEWAY_BREAKER_RESET_SECONDS", 5.0)

# Rate limits, counted in the cache every worker shares (Redis with REDIS_URL).
GATEWAY_RATE_LIMIT_ENABLED = env.get_bool("GATEWAY_RATE_LIMIT_ENABLED", True)
GATEWAY_RATE_LIMITS = {
    "default": {
        "address": env.get_str("GATEWAY_RATE_PER_ADDRESS", "1200/min"),
        "user": env.get_str("GATEWAY_RATE_PER_USER", "600/min"),
    },
    "sign_in": {"address": env.get_str("GATEWAY_SIGN_IN_RATE_PER_ADDRESS", "20/min")},
    # Password resets and e-mail verification (users throttles them per address asked about).
    "account_links": {"address": env.get_str("GATEWAY_ACCOUNT_LINKS_RATE_PER_ADDRESS", "20/min")},
}
# The gateway's own pages that report on every upstream (/health, /api/schema/): counted
# per worker process, in memory.
GATEWAY_PAGES_RATE_LIMIT = {"address": env.get_str("GATEWAY_PAGES_RATE_PER_ADDRESS", "120/min")}
# A rate-limit count that takes longer than this lets the request through (and says so).
GATEWAY_RATE_LIMIT_TIMEOUT = env.get_float("GATEWAY_RATE_LIMIT_TIMEOUT", 0.5)
# How many proxies in front of the gateway append to X-Forwarded-For (0: clients connect
# directly, and whatever they send in X-Forwarded-For is ignored).
GATEWAY_TRUSTED_PROXY_COUNT = env.get_int("GATEWAY_TRUSTED_PROXY_COUNT", 0)
# A web front end that calls the API for many browsers (the storefront) sends this secret in
# X-Souk-Frontend-Secret and its browser's address as the last X-Forwarded-For entry: the
# gateway then limits each browser, not the front end as one client. Empty: nobody may.
GATEWAY_FRONTEND_SECRET = env.get_str("GATEWAY_FRONTEND_SECRET")

# /health and /api/schema/ answer from checks made in the background (proxy/watch.py).
GATEWAY_HEALTH_INTERVAL = env.get_float("GATEWAY_HEALTH_INTERVAL", 2.0)
GATEWAY_HEALTH_TIMEOUT = env.get_float("GATEWAY_HEALTH_TIMEOUT", 1.0)
GATEWAY_SCHEMA_REFRESH_SECONDS = env.get_float("GATEWAY_SCHEMA_REFRESH_SECONDS", 60.0)

# The public listener's HTTP (proxy/server.py): limits and deadlines per request.
GATEWAY_MAX_REQUEST_LINE = env.get_int("GATEWAY_MAX_REQUEST_LINE", 8192)
GATEWAY_MAX_HEADER_BYTES = env.get_int("GATEWAY_MAX_HEADER_BYTES", 32 * 1024)
GATEWAY_MAX_HEADERS = env.get_int("GATEWAY_MAX_HEADERS", 100)
GATEWAY_HEADER_TIMEOUT = env.get_float("GATEWAY_HEADER_TIMEOUT", 10.0)
GATEWAY_BODY_TIMEOUT = env.get_float("GATEWAY_BODY_TIMEOUT", 30.0)
# Threads for the work that may block (token checks that fetch keys, rate-limit counts).
GATEWAY_BLOCKING_THREADS = env.get_int("GATEWAY_BLOCKING_THREADS", 16)
# Sent to every upstream in X-Souk-Proxy-Secret, so that they believe its X-Forwarded-For.
GATEWAY_PROXY_SECRET = env.proxy_secret()

# Browsers' cross-origin requests (proxy/cors.py): the exact origins whose pages may call the
# API (comma-separated, e.g. https://shop.example; empty: none, and no CORS header at all),
# and how long a browser may keep a preflight's answer.
GATEWAY_CORS_ORIGINS = env.get_list("GATEWAY_CORS_ORIGINS")
GATEWAY_CORS_MAX_AGE = env.get_int("GATEWAY_CORS_MAX_AGE", 600)
# The admin's "View site" without a storefront: the admin listener serves no API docs of
# its own (the public listener does), so the routes in force, what this admin is for.
ADMIN_SITE_URL = "/admin/proxy/route/"
