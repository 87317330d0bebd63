"""Settings of the payments service, read from the environment (souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("payments", base_dir=BASE_DIR)

globals().update(
    common.service_settings(
        env,
        apps=["payments"],
        title="Souk payments",
        description="The payments service.",
    )
)

# Tokens are verified here, statelessly, with the users service's published keys. To check
# staff (IsStaff) or call another service, this service also needs its identity with the
# users service: {**env.jwt_verification(), **env.service_identity("payments")}.
SOUK = env.jwt_verification()
