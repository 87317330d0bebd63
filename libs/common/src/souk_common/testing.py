"""Helpers for the services' test suites.

Tokens: :func:`signing_key_for_tests` is one RSA key per test process; services'
test settings trust its public half (:func:`souk_test_settings`) and
:class:`TokenFactory` mints real RS256 tokens with it, so tests authenticate
exactly as production does. :func:`jwks_document` builds a JWK Set.

Database choice (contract §1): tests use PostgreSQL at ``POSTGRES_URL``
(default ``postgres://postgres@127.0.0.1:5432/postgres``) when it answers, and
SQLite otherwise, saying so loudly. With ``REQUIRE_POSTGRES=1`` a missing
PostgreSQL is an error, not a fallback. Tests marked ``@pytest.mark.postgres``
are skipped on SQLite with that reason (see :mod:`souk_common.pytest_plugin`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from souk_common.keys import PublicKey, SigningKey
from souk_common.settings import database_config

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")


def postgres_url() -> str:
    """The PostgreSQL server tests use: ``POSTGRES_URL`` or the local default."""
    return os.environ.get("POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    """True when ``REQUIRE_POSTGRES=1``: no fallback to SQLite."""
    return os.environ.get("REQUIRE_POSTGRES", "").strip().lower() in ("1", "true", "yes")


def postgres_error(url: str, timeout: int = 2) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or ``None`` when it answers."""
    import psycopg

    config = database_config(url)
    try:
        with psycopg.connect(
            dbname=config["NAME"] or "postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            connect_timeout=timeout,
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip() or exc.__class__.__name__


def database_for_tests(service: str) -> dict[str, Any]:
    """``DATABASES["default"]`` for one service's tests.

    PostgreSQL when it answers (test database ``test_souk_<service>``); else
    SQLite with a loud warning, or an error when ``REQUIRE_POSTGRES=1``.
    """
    url = postgres_url()
    error = postgres_error(url)
    if error is None:
        config = database_config(url, conn_max_age=0)
        config["NAME"] = f"souk_{service}"
        config["TEST"] = {"NAME": f"test_souk_{service}"}
        return config
    if postgres_required():
        raise ImproperlyConfigured(
            f"REQUIRE_POSTGRES=1 but PostgreSQL at {url} does not answer: {error}"
        )
    banner = "!" * 78
    print(
        f"\n{banner}\n!! PostgreSQL at {url} does not answer ({error}).\n"
        f"!! The {service} tests run on SQLite; PostgreSQL-only tests (concurrency)\n"
        f"!! are SKIPPED. Set POSTGRES_URL, or REQUIRE_POSTGRES=1 to make this an error.\n"
        f"{banner}\n",
        file=sys.stderr,
    )
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"timeout": 20},
    }


def run_concurrently(target: Callable[[int], T], count: int) -> list[T | BaseException]:
    """Run ``target(i)`` in ``count`` threads released together; return each result or error.

    In a Django test, each thread closes its database connections when done,
    so the test database can be dropped afterwards.
    """
    from django.conf import settings
    from django.db import connections

    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("did not run")] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            results[index] = exc
        finally:
            if settings.configured:
                connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


class ServiceSkeletonChecks:
    """What every service serves besides its API; subclass it as ``TestSkeleton``.

    Health, the OpenAPI schema and Swagger UI (with its assets served locally,
    never from a CDN), the admin login page and its limit on failed logins, the
    404 envelope and the request-id echo.
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

    @pytest.mark.django_db
    def test_admin_logins_are_limited_per_username_and_per_address(
        self, client: Client, settings: Any
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
        users.create_user("boss", "boss@example.com", "right-password-1", is_staff=True)
        users.create_user("clerk", "clerk@example.com", "right-password-2", is_staff=True)

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


# Keys and tokens ----------------------------------------------------------------------


@functools.cache
def signing_key_for_tests() -> SigningKey:
    """One RSA key per test process (generating one takes tens of milliseconds)."""
    return SigningKey.generate()


#: Where tests find the users service, faked with ``responses`` (:class:`FakeUsersService`).
USERS_TEST_URL = "http://users.test"


def souk_test_settings(**overrides: Any) -> dict[str, Any]:
    """``SOUK`` settings for tests: trust :func:`signing_key_for_tests` offline, and call
    other services through requests, so that ``responses`` can fake them (the users
    service at :data:`USERS_TEST_URL`)."""
    return {
        "JWT_PUBLIC_KEYS": [signing_key_for_tests().public.to_pem()],
        "HTTP_TRANSPORT": "requests",
        "USERS_URL": USERS_TEST_URL,
        "SERVICE_CLIENT_ID": "tests",
        "SERVICE_CLIENT_SECRET": "a-secret-for-tests-only",
        **overrides,
    }


@dataclass
class FakeUsersService:
    """The users service's internal API, faked at the HTTP boundary with ``responses``.

    It issues service tokens, and answers ``GET /internal/users/{id}/`` from its sets:
    an account is active and not staff unless listed. ``failure`` (an exception, such
    as ``requests.ConnectionError``) is raised by every account lookup instead.
    """

    staff: set[int] = field(default_factory=set)
    inactive: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    failure: BaseException | None = None
    lookups: int = 0

    def account(self, request: Any) -> tuple[int, dict[str, str], str]:
        """The ``responses`` callback answering one account lookup."""
        self.lookups += 1
        if self.failure is not None:
            raise self.failure
        match = re.search(r"/internal/users/(\d+)/", request.url or "")
        assert match, request.url
        user_id = int(match.group(1))
        if user_id in self.missing:
            return 404, {}, json.dumps({"error": {"code": "not_found"}})
        body = {
            "id": user_id,
            "username": f"user{user_id}",
            "is_active": user_id not in self.inactive,
            "is_staff": user_id in self.staff,
        }
        return 200, {}, json.dumps(body)

    def install(self, mock: Any, base_url: str = USERS_TEST_URL) -> None:
        """Register the service-token and account endpoints with a ``RequestsMock``."""
        import responses

        mock.add(
            responses.POST,
            f"{base_url}/internal/auth/token/",
            json={"access": "service-token", "expires_in": 300, "token_type": "Bearer"},
        )
        mock.add_callback(
            responses.GET, re.compile(rf"{re.escape(base_url)}/internal/users/\d+/"), self.account
        )


def jwks_document(*keys: PublicKey) -> dict[str, Any]:
    """A JWK Set of the given public keys, as the users service publishes it."""
    return {"keys": [key.to_jwk() for key in keys]}


class TokenFactory:
    """Mints real RS256 tokens, as the users service would, and forged ones on request."""

    def __init__(
        self,
        signing_key: SigningKey | None = None,
        *,
        issuer: str = "souk-users",
        audience: str = "souk",
    ) -> None:
        self.signing_key = signing_key or signing_key_for_tests()
        self.issuer = issuer
        self.audience = audience

    def claims(self, token_type: str, lifetime: float = 300, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "token_type": token_type,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(lifetime),
            "jti": uuid.uuid4().hex,
            **extra,
        }

    def encode(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        """Sign ``claims`` with RS256 and this factory's key id (headers may override)."""
        return jwt.encode(
            claims,
            self.signing_key.key,
            algorithm="RS256",
            headers={"kid": self.signing_key.kid, **(headers or {})},
        )

    def access(
        self,
        *,
        user_id: int = 1,
        username: str = "alice",
        is_staff: bool = False,
        lifetime: float = 300,
        **extra: Any,
    ) -> str:
        """A user's access token."""
        return self.encode(
            self.claims(
                "access",
                lifetime,
                user_id=user_id,
                username=username,
                is_staff=is_staff,
                **extra,
            )
        )

    def service(
        self, *, client_id: str = "orders", scopes: Iterable[str] = (), lifetime: float = 300
    ) -> str:
        """A service token granting ``scopes``."""
        return self.encode(self.claims("service", lifetime, sub=client_id, scope=" ".join(scopes)))

    def forged(self, kind: str, *, token_type: str = "access", **claims: Any) -> str:
        """Tokens that must be refused: see :data:`FORGED_TOKEN_KINDS`.

        Each is a valid ``token_type`` token with ``claims`` but for one flaw.
        """
        identity = {"user_id": 1, "username": "mallory", "is_staff": True, **claims}
        base = self.claims(token_type, **identity)
        public_pem = self.signing_key.public.to_pem().encode()
        if kind == "alg-none":
            header = {"alg": "none", "typ": "JWT", "kid": self.signing_key.kid}
            return _unsigned(header, base)
        if kind == "hs256-public-key":
            # The classic confusion: an HMAC "signed" with the RSA public key.
            return _hmac_signed(base, public_pem, self.signing_key.kid)
        if kind == "hs256-secret":
            return _hmac_signed(
                base, b"a-guessable-shared-secret-of-32+bytes", self.signing_key.kid
            )
        if kind == "other-key":
            return TokenFactory(SigningKey.generate()).encode(base)
        if kind == "wrong-kid":
            return self.encode(base, headers={"kid": "not-a-known-key"})
        if kind == "wrong-issuer":
            return self.encode({**base, "iss": "someone-else"})
        if kind == "wrong-audience":
            return self.encode({**base, "aud": "another-system"})
        if kind == "expired":
            return self.encode({**base, "iat": base["iat"] - 3600, "exp": base["iat"] - 600})
        if kind == "refresh":
            return self.encode({**base, "token_type": "refresh"})
        if kind == "critical-extension":
            # RFC 7515 section 4.1.11: an extension the recipient must understand, and we don't.
            return self.encode(base, headers={"crit": ["exp"]})
        if kind == "date-not-a-number":
            return self.encode({**base, "exp": [base["exp"]]})
        if kind == "tampered":
            token = self.encode(base)
            head, payload, signature = token.split(".")
            flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
            return ".".join((head, payload, flipped))
        raise ValueError(f"unknown forged token kind {kind!r}")


#: Every kind of token ``TokenFactory.forged`` makes; each must get a 401.
FORGED_TOKEN_KINDS = (
    "alg-none",
    "hs256-public-key",
    "hs256-secret",
    "other-key",
    "wrong-kid",
    "wrong-issuer",
    "wrong-audience",
    "expired",
    "refresh",
    "critical-extension",
    "date-not-a-number",
    "tampered",
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, claims)]
    return ".".join(_b64(part) for part in parts) + "."


def _hmac_signed(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, claims)]
    signing_input = ".".join(_b64(part) for part in parts)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"
