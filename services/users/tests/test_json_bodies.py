"""Request bodies refused before any view reads them: JSON nested too deeply."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/users/", "/api/auth/token/", "/api/auth/token/refresh/"])
@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_deeply_nested_json_is_a_400_not_a_crash(api, path, body):
    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not User.objects.exists()
