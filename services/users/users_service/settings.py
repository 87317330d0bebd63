"""Settings of the users service, read from the environment (see souk_common.settings)."""

from datetime import timedelta
from pathlib import Path

from souk_common import settings as common
from souk_common.keys import PublicKey, ensure_private_key_file, read_pem

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("users", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["rest_framework_simplejwt.token_blacklist", "souk_common.events", "accounts"],
        title="Souk users",
        description="Accounts, identity and JSON Web Tokens.",
    )
)
AUTH_USER_MODEL = "accounts.User"
# The accounts are here: staff sign in to this admin with them, and manage them in it.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
REST_FRAMEWORK = common.rest_framework_settings(
    authentication_classes=("accounts.authentication.UserJWTAuthentication",),
    DEFAULT_THROTTLE_RATES={
        "login_username": env.get_str("LOGIN_RATE_PER_USERNAME", "5/min"),
        "login_address": env.get_str("LOGIN_RATE_PER_ADDRESS", "30/min"),
        "service_token": env.get_str("SERVICE_TOKEN_RATE", "60/min"),
        # Password-reset requests per client address and per address asked about (mail
        # bombing one inbox), and uses of the mailed links' tokens per client address.
        "password_reset_address": env.get_str("PASSWORD_RESET_RATE_PER_ADDRESS", "10/min"),
        "password_reset_email": env.get_str("PASSWORD_RESET_RATE_PER_EMAIL", "5/hour"),
        "link_token_address": env.get_str("LINK_TOKEN_RATE_PER_ADDRESS", "30/min"),
    },
)

# Signing keys. The private key lives only here: JWT_PRIVATE_KEY (PEM, "\n" escapes
# allowed) or JWT_PRIVATE_KEY_FILE; in development a key is generated under var/keys/.
# During a rotation, JWT_PREVIOUS_PUBLIC_KEY_FILES lists the old public keys, which stay
# published in the JWK Set and accepted until the tokens they signed have expired.
JWT_SIGNING_KEY = read_pem(
    value=env.get_str("JWT_PRIVATE_KEY"), path=env.get_str("JWT_PRIVATE_KEY_FILE")
)
if not JWT_SIGNING_KEY:
    env.required("JWT_PRIVATE_KEY", development_default="(generated)")
    JWT_SIGNING_KEY = ensure_private_key_file(env.var_dir / "keys" / "jwt-signing.pem").to_pem()
JWT_PREVIOUS_PUBLIC_KEYS = [
    PublicKey.from_pem(read_pem(path=path)).to_pem()
    for path in env.get_list("JWT_PREVIOUS_PUBLIC_KEY_FILES")
]
JWT_ISSUER = env.get_str("JWT_ISSUER", "souk-users")
JWT_AUDIENCE = env.get_str("JWT_AUDIENCE", "souk")

# How long the tokens this service issues live (accounts.tokens).
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.get_int("ACCESS_TOKEN_SECONDS", 300))
REFRESH_TOKEN_LIFETIME = timedelta(seconds=env.get_int("REFRESH_TOKEN_SECONDS", 86400))
SERVICE_TOKEN_LIFETIME = timedelta(seconds=env.get_int("SERVICE_TOKEN_SECONDS", 300))
# How long the links mailed to a user work (accounts.links): a password reset's (Django's
# own setting) and an e-mail verification's.
PASSWORD_RESET_TIMEOUT = env.get_int("PASSWORD_RESET_SECONDS", 3600)
EMAIL_VERIFICATION_TIMEOUT = env.get_int("EMAIL_VERIFICATION_SECONDS", 3 * 86400)
# The scopes a service client may be granted: users:read an account's state (active,
# staff), users:contact its name and e-mail address, stock:reserve products' reservations,
# cart:checkout a user's cart (read, merge, empty), shipping:quote shipping's cost of an order.
SERVICE_SCOPES = ["users:read", "users:contact", "stock:reserve", "cart:checkout", "shipping:quote"]

# This service verifies its own tokens offline, with the keys it publishes.
SOUK = {
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": JWT_AUDIENCE,
    "JWT_PUBLIC_KEYS": [PublicKey.from_pem(JWT_SIGNING_KEY).to_pem(), *JWT_PREVIOUS_PUBLIC_KEYS],
    # Sign-in throttles count per client: behind the gateway, the one X-Forwarded-For sends.
    "PROXY_SECRET": env.proxy_secret(),
    # Users publishes user.registered, user.email_changed and user.password_reset_requested
    # to the broker at BROKER_URL.
    **env.events(),
}
