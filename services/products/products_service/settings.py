"""Settings of the products service, read from the environment (see souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("products", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        # django.contrib.postgres: the trigram indexes of search (its OpClass in Meta.indexes).
        apps=["django.contrib.postgres", "django_filters", "catalogue", "inventory"],
        title="Souk products",
        description="Catalogue and stock.",
    )
)

# Tokens are verified here, statelessly, with the users service's published keys; a staff
# member's privileges are confirmed with the users service, as the service client "products".
SOUK = {**env.jwt_verification(), **env.service_identity("products")}
