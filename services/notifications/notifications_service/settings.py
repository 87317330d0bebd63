"""Settings of the notifications service, read from the environment (souk_common.settings)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("notifications", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["souk_common.events", "notifications"],
        title="Souk notifications",
        description=(
            "E-mails the customer, once per event, about their account and their orders. "
            "No API of its own: it consumes the users' and orders' events."
        ),
    )
)

# Mail goes out through Django's e-mail framework, to the server at EMAIL_URL (required
# in production); in development it is written as files under var/mail/.
globals().update(env.email())

# The links of the account mails: the storefront's pages, which send the token on to the
# gateway's POST /api/auth/password-reset/confirm/ and /api/auth/verify-email/. "{token}"
# in each is replaced by the link's token.
PASSWORD_RESET_URL = env.get_str(
    "PASSWORD_RESET_URL", "http://127.0.0.1:8080/password-reset/confirm/?token={token}"
)
EMAIL_VERIFICATION_URL = env.get_str(
    "EMAIL_VERIFICATION_URL", "http://127.0.0.1:8080/verify-email/?token={token}"
)
for _name, _url in [
    ("PASSWORD_RESET_URL", PASSWORD_RESET_URL),
    ("EMAIL_VERIFICATION_URL", EMAIL_VERIFICATION_URL),
]:
    if "{token}" not in _url:
        raise ImproperlyConfigured(f"{_name} must contain {{token}}: {_url!r}")

# Tokens are verified here, statelessly, with the users service's published keys, as in
# every service. Its identity with the users service (the service client "notifications"
# there, scope users:contact) asks for an account's current e-mail address. It consumes the
# events its handlers name from the broker at BROKER_URL.
SOUK = {
    **env.jwt_verification(),
    **env.events(handlers="notifications.handlers.handlers"),
    **env.service_identity("notifications"),
}
