"""pytest plugin (entry point ``souk``): the one module of souk_common that imports pytest.

It says which database the tests use: it adds the ``postgres`` marker, on SQLite
skips the tests so marked with a reason that says why, and prints the database in
the session header. It gives every service's tests the same fixtures (tokens, a
other services faked at the HTTP boundary) and the same
checks of the service's skeleton (:class:`ServiceSkeletonChecks`). Each test
starts with no account state or service token remembered from another.
``admin_client`` is pytest-django's signed in as the service signs staff in: through
the users service (faked) where staff sign in with their users account.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from souk_common.testing import (
    FakeService,
    FakeUsersService,
    FakeUsersSignIn,
    broker_error,
    rabbitmq_required,
    rabbitmq_url,
)

# Tests run untraced, whatever the shell exported: a test that traces says so (and gives
# the processes it starts their endpoint). Done as the plugin loads, before pytest-django
# starts Django, which is when tracing would begin (souk_common.tracing).
for _name in [name for name in os.environ if name.startswith("OTEL_")]:
    del os.environ[_name]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: only meaningful on PostgreSQL (concurrency, row locks)"
    )
    config.pluginmanager.register(_AdminClient(), "souk-admin-client")


def _database_vendor() -> str | None:
    try:
        from django.conf import settings

        if not settings.configured:
            return None
        from django.db import connection

        return connection.vendor
    except Exception:  # noqa: BLE001 - not a Django test run
        return None


def pytest_report_header(config: pytest.Config) -> str | None:
    vendor = _database_vendor()
    if vendor == "postgresql":
        from django.db import connection

        params = connection.settings_dict
        return f"database: PostgreSQL at {params.get('HOST')}:{params.get('PORT')}"
    if vendor == "sqlite":
        return (
            "database: SQLite -- PostgreSQL is NOT reachable; "
            "tests marked 'postgres' are SKIPPED (see POSTGRES_URL, REQUIRE_POSTGRES)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = _database_vendor()
    if vendor is None or vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL (this run uses {vendor})")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(params=["embedded", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Each broker events travel through: the embedded one (a file of the test's own),
    and RabbitMQ at ``RABBITMQ_URL`` (skipped when it does not answer, unless
    ``REQUIRE_RABBITMQ=1``)."""
    if request.param == "embedded":
        return f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    url = rabbitmq_url()
    error = broker_error(url)
    if error is not None:
        message = f"RabbitMQ at {url} does not answer: {error}"
        if rabbitmq_required():
            pytest.fail(f"REQUIRE_RABBITMQ=1 but {message}")
        pytest.skip(message)
    return url


@pytest.fixture
def token_factory() -> Any:
    """Mints RS256 tokens with the key the test settings trust (souk_common.testing)."""
    from souk_common.testing import TokenFactory

    return TokenFactory()


@pytest.fixture(autouse=True)
def _nothing_remembered_from_the_users_service() -> Iterator[None]:
    """Forget accounts' states and the service token (souk_common.accounts) around each test."""
    from souk_common import accounts

    accounts.reset()
    yield
    accounts.reset()


class ManualClock:
    """A clock that stands still until a test moves it: ``clock.now += 5``."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def account_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """Account states are remembered (souk_common.accounts) on a clock the test moves."""
    from souk_common import accounts
    from souk_common.conf import souk_settings

    clock = ManualClock()
    directory = accounts.AccountDirectory(
        accounts.users_client(),
        cache_seconds=float(souk_settings.ACCOUNT_CACHE_SECONDS),
        clock=clock,
    )
    # Cached like the real one, so that accounts.reset() still works while it stands in.
    monkeypatch.setattr(accounts, "account_directory", functools.cache(lambda: directory))
    return clock


@pytest.fixture
def fake_service() -> Iterator[Callable[[], FakeService]]:
    """Start fake services (real HTTP servers on loopback); each is closed after the test."""
    started: list[FakeService] = []

    def start() -> FakeService:
        started.append(FakeService())
        return started[-1]

    yield start
    for fake in started:
        fake.close()


@pytest.fixture
def users_server(fake_service: Callable[[], FakeService], settings: Any) -> FakeService:
    """The users service, faked at its HTTP boundary; ``SOUK["USERS_URL"]`` names it."""
    server = fake_service()
    settings.SOUK = {**getattr(settings, "SOUK", {}), "USERS_URL": server.url}
    return server


@pytest.fixture
def users_service(users_server: FakeService) -> FakeUsersService:
    """The users service's internal API, faked; ``SOUK["USERS_URL"]`` names it.

    Every account is active and not staff until the test says otherwise
    (``users_service.staff.add(7)``).
    """
    users = FakeUsersService()
    users.install(users_server)
    return users


@pytest.fixture
def users_sign_in(users_server: FakeService) -> FakeUsersSignIn:
    """The users service's sign-in and ``/api/users/me/``, faked: where staff sign in to
    the admin (souk_common.staff). Accounts are added by the test (``users_sign_in.add``)."""
    sign_in = FakeUsersSignIn()
    sign_in.install(users_server)
    return sign_in


def _staff_sign_in_here() -> bool:
    from django.conf import settings

    from souk_common.staff import STAFF_BACKEND

    return STAFF_BACKEND in settings.AUTHENTICATION_BACKENDS


@pytest.fixture
def make_staff_account(request: pytest.FixtureRequest, db: None) -> Callable[[str, str], None]:
    """``make_staff_account(username, password)``: a staff account this service's admin
    signs in: the users service's (faked) where staff sign in with it, else a local one."""

    def make(username: str, password: str) -> None:
        if _staff_sign_in_here():
            request.getfixturevalue("users_sign_in").add(username, password)
        else:
            from django.contrib.auth import get_user_model

            get_user_model()._default_manager.create_user(
                username, f"{username}@example.com", password, is_staff=True
            )

    return make


class _AdminClient:
    """pytest-django's ``admin_client``, signed in as this service signs staff in.

    Registered after every plugin (``pytest_configure``), so it stands in for
    pytest-django's: where staff sign in with their users account, the client signs in
    through the login form against the users service's fake, and each of its requests
    is confirmed with it, as in production.
    """

    @pytest.fixture
    def admin_client(self, request: pytest.FixtureRequest, db: None) -> Client:
        client = Client()
        if not _staff_sign_in_here():  # the accounts are here: pytest-django's superuser
            from django.contrib.auth import get_user_model

            admin = get_user_model()._default_manager.create_superuser(
                "admin", "admin@example.com", None
            )
            client.force_login(admin)
            return client
        credentials = {"username": "admin", "password": "an-admin-password"}
        request.getfixturevalue("users_sign_in").add(*credentials.values())
        response = client.post("/admin/login/", credentials)
        assert response.status_code == 302, response.content.decode()[:2000]
        return client


class ServiceSkeletonChecks:
    """What every service serves besides its API; subclass it as ``TestSkeleton``.

    Health, the OpenAPI schema and Swagger UI (with its assets served locally,
    never from a CDN), ``/`` and the admin's "View site" leading to them, the admin
    login page and its limit on failed logins, the 404 envelope and the request-id
    echo.
    """

    def test_live(self, client: Client) -> None:
        response = client.get("/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    @pytest.mark.django_db
    def test_ready(self, client: Client) -> None:
        response = client.get("/health/ready")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    @pytest.mark.django_db
    def test_openapi_schema(self, client: Client) -> None:
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")

    def test_swagger_ui_is_served_without_internet(self, client: Client) -> None:
        response = client.get("/api/docs/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "cdn." not in page
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
        assert any("swagger-ui-bundle" in asset for asset in assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset

    @pytest.mark.django_db
    def test_admin_login_page(self, client: Client) -> None:
        response = client.get("/admin/login/")
        assert response.status_code == 200
        stylesheets = re.findall(r'href="(/static/admin/[^"]+)"', response.content.decode())
        assert stylesheets
        assert client.get(stylesheets[0]).status_code == 200

    def test_the_site_root_leads_to_the_api_docs(self, client: Client) -> None:
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"] == "/api/docs/"

    @pytest.mark.django_db
    def test_the_admins_view_site_leads_somewhere_it_serves(
        self, admin_client: Client, settings: Any
    ) -> None:
        """Without a storefront: the API docs, or the page the service names instead
        (``ADMIN_SITE_URL``: the gateway's admin listener has no docs of its own)."""
        settings.STOREFRONT_URL = ""
        expected = str(getattr(settings, "ADMIN_SITE_URL", "") or "/api/docs/")
        response = admin_client.get("/admin/")
        assert response.status_code == 200
        assert f'href="{expected}">View site' in response.content.decode()
        assert admin_client.get(expected).status_code == 200

    @pytest.mark.django_db
    def test_admin_logins_are_limited_per_username_and_per_address(
        self, client: Client, settings: Any, make_staff_account: Any
    ) -> None:
        """Failed admin logins are limited (souk_common.admin); a limited login shows the
        login page saying why, with 429, and checks no password."""
        from django.contrib.auth import get_user_model
        from django.core.cache import cache

        cache.clear()
        settings.SOUK = {
            **getattr(settings, "SOUK", {}),
            "ADMIN_LOGIN_FAILURES_PER_USERNAME": 3,
            "ADMIN_LOGIN_FAILURES_PER_ADDRESS": 5,
        }
        users = get_user_model()._default_manager
        make_staff_account("boss", "right-password-1")
        make_staff_account("clerk", "right-password-2")

        def log_in(username: str, password: str, address: str) -> Any:
            body = {"username": username, "password": password}
            return client.post("/admin/login/", body, REMOTE_ADDR=address)

        wrong = [log_in("boss", "wrong", "203.0.113.5").status_code for _ in range(3)]
        limited = log_in("boss", "right-password-1", "198.51.100.9")  # from elsewhere too
        guesses = [log_in(f"guess{n}", "wrong", "192.0.2.1").status_code for n in range(5)]
        from_guesser = log_in("clerk", "right-password-2", "192.0.2.1")
        clerk = log_in("clerk", "right-password-2", "198.51.100.10")

        assert wrong == [200, 200, 200]  # the login page again, with its error
        assert limited.status_code == 429
        assert "Too many failed logins" in limited.content.decode()
        assert int(limited["Retry-After"]) > 0
        assert guesses == [200] * 5
        assert from_guesser.status_code == 429
        assert clerk.status_code == 302  # another user, from another address
        assert client.session["_auth_user_id"] == str(users.get(username="clerk").pk)

    def test_unknown_path_is_a_404_envelope(self, client: Client) -> None:
        response = client.get("/no/such/path", HTTP_X_REQUEST_ID="skeleton-1")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert response.json()["error"]["request_id"] == "skeleton-1"
        assert response["X-Request-ID"] == "skeleton-1"
