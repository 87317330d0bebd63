"""Every service's admin limits failed logins (each service's tests check the limits:
souk_common.testing.ServiceSkeletonChecks)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache

from souk_common.admin import AdminSite


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_every_service_admin_is_the_limited_site():
    assert isinstance(admin.site, AdminSite)


@pytest.mark.django_db
def test_a_limited_admin_login_is_the_login_page_saying_why(client, settings):
    settings.SOUK = {**settings.SOUK, "ADMIN_LOGIN_FAILURES_PER_USERNAME": 1}
    User.objects.create_user("boss", password="right-password-1", is_staff=True)
    client.post("/admin/login/", {"username": "boss", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "Boss", "password": "right-password-1"})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "admin/login.html" in [template.name for template in response.templates]
    assert "Wait 15 minutes, then try again." in response.content.decode()
    assert "_auth_user_id" not in client.session
