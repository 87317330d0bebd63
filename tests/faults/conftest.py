"""The fault suite's stack: short-lived service tokens, so a hang can span a renewal."""

import pytest


@pytest.fixture(scope="session")
def system_environment() -> dict[str, str]:
    # Orders and products renew their tokens with users every 5 s (half of 10).
    return {"SERVICE_TOKEN_SECONDS": "10"}
