"""Helpers for the services' test suites.

Nothing here imports pytest, so tools may use it too; the pytest fixtures and the
checks every service runs are in :mod:`souk_common.pytest_plugin`.

Tokens: :func:`signing_key_for_tests` is one RSA key per test process; services'
test settings trust its public half (:func:`souk_test_settings`) and
:class:`TokenFactory` mints real RS256 tokens with it, so tests authenticate
exactly as production does. :func:`jwks_document` builds a JWK Set.

Other services: :class:`FakeService` is a real HTTP server a test registers
answers with, so the code under test calls it through the client production uses;
:class:`FakeUsersService` answers like the users service's internal API.

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
from django.core.exceptions import ImproperlyConfigured

from souk_common.db import database_config
from souk_common.keys import PublicKey, SigningKey

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")


def postgres_url() -> str:
    """The PostgreSQL server tests use: ``POSTGRES_URL`` or the local default."""
    return os.environ.get("POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    """True when ``REQUIRE_POSTGRES=1``: no fallback to SQLite."""
    return os.environ.get("REQUIRE_POSTGRES", "").strip().lower() in ("1", "true", "yes")


DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_url() -> str:
    """The RabbitMQ server tests of events use: ``RABBITMQ_URL`` or the local default."""
    return os.environ.get("RABBITMQ_URL") or DEFAULT_RABBITMQ_URL


def rabbitmq_required() -> bool:
    """True when ``REQUIRE_RABBITMQ=1`` (CI): tests on RabbitMQ fail, not skip, without it."""
    return os.environ.get("REQUIRE_RABBITMQ", "").strip().lower() in ("1", "true", "yes")


def broker_error(url: str, timeout: float = 2.0) -> str | None:
    """Why the broker at ``url`` cannot be used, or ``None`` when it answers."""
    from souk_common.events.broker import connection

    try:
        with connection(url) as broker:
            broker.ensure_connection(max_retries=1, timeout=timeout)
            return None
    except Exception as exc:  # noqa: BLE001 -- whatever it is, it is the reason to report
        return str(exc).strip() or exc.__class__.__name__


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

    PostgreSQL when it answers (test database ``test_souk_<service>``, followed by
    ``SOUK_TEST_DATABASE_SUFFIX`` so that two checkouts may test side by side); else
    SQLite with a loud warning, or an error when ``REQUIRE_POSTGRES=1``. With
    ``SOUK_TEST_DATABASE=sqlite``, SQLite whatever answers: what `nox -s sqlite` runs,
    to show the service still works on the database of `nox -s up`.
    """
    if os.environ.get("SOUK_TEST_DATABASE") == "sqlite":
        return dict(_SQLITE_FOR_TESTS)
    url = postgres_url()
    error = postgres_error(url)
    if error is None:
        config = database_config(url, conn_max_age=0)
        config["NAME"] = f"souk_{service}"
        suffix = os.environ.get("SOUK_TEST_DATABASE_SUFFIX", "")
        config["TEST"] = {"NAME": f"test_souk_{service}{suffix}"}
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
    return dict(_SQLITE_FOR_TESTS)


_SQLITE_FOR_TESTS = {
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


# Keys and tokens ----------------------------------------------------------------------


@functools.cache
def signing_key_for_tests() -> SigningKey:
    """One RSA key per test process (generating one takes tens of milliseconds)."""
    return SigningKey.generate()


#: Where tests find the users service, faked with ``responses`` (:class:`FakeUsersService`).
# Nothing listens on the discard port: a call to another service that no test arranged
# (with a FakeService) fails at once as a bad gateway.
UNREACHABLE_URL = "http://127.0.0.1:9"


def souk_test_settings(**overrides: Any) -> dict[str, Any]:
    """``SOUK`` settings for tests: trust :func:`signing_key_for_tests` offline; the
    users service is unreachable until a test fakes it (the ``users_service`` fixture)."""
    return {
        "JWT_PUBLIC_KEYS": [signing_key_for_tests().public.to_pem()],
        "USERS_URL": UNREACHABLE_URL,
        "SERVICE_CLIENT_ID": "tests",
        "SERVICE_CLIENT_SECRET": "a-secret-for-tests-only",
        **overrides,
    }


# Another service, faked at the HTTP boundary ------------------------------------------


class Dropped(Exception):
    """Raised by a fake's callback: the connection is closed with no answer (a reset)."""


class Hung(Exception):
    """Raised by a fake's callback: no answer for ``seconds`` (past the caller's read
    timeout), then the connection closes. The work the callback did is done."""

    def __init__(self, seconds: float = 2.0) -> None:
        super().__init__(f"hung for {seconds} s")
        self.seconds = seconds


@dataclass(frozen=True)
class FakeRequest:
    """What a fake service received."""

    method: str
    url: str  # the full URL, query included
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Answer = tuple[int, dict[str, str], str | bytes]
Callback = Callable[[FakeRequest], Answer]


class FakeService:
    """A real HTTP server on a free loopback port that answers from registered routes.

    Unit tests fake another service here, at the HTTP boundary of the very client
    production uses (:class:`~souk_common.clients.ServiceClient`), not through a
    transport production never takes. Routes are a method and a path (a string,
    or a compiled regex matched against the whole path); answers are registered
    like ``responses``' (several for one route are given in turn, the last one
    again and again) or computed by a callback, which may raise :class:`Dropped`
    or :class:`Hung` to fail the way a network does. Unknown routes answer 599, so
    a call nobody expected shows up as a bad gateway in the test. Close it after
    use (the ``fake_service`` fixture does).
    """

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.calls: list[FakeRequest] = []
        self._routes: list[tuple[str, str | re.Pattern[str], list[Callback]]] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = FakeRequest(
                    method=self.command,
                    url=fake.url + self.path,
                    path=self.path.split("?", 1)[0],
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                try:
                    status, headers, body = fake._answer(request)
                except Dropped:
                    self.close_connection = True
                    return
                except Hung as hung:
                    time.sleep(hung.seconds)
                    self.close_connection = True
                    return
                payload = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval: closing waits for the serving loop to notice.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        threading.Thread(target=serve, daemon=True).start()

    def add(
        self,
        method: str,
        path: str | re.Pattern[str],
        *,
        json: Any = None,
        body: str | bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``method path`` with this (after the answers registered before it)."""
        payload: str | bytes = body if json is None else _json_text(json)
        answer: Answer = (status, dict(headers or {}), payload)
        self._register(method, path, lambda request: answer)

    def replace(self, method: str, path: str | re.Pattern[str], **answer: Any) -> None:
        """Forget what ``method path`` answered; answer this from now on (see :meth:`add`)."""
        with self._lock:
            self._routes = [
                route for route in self._routes if (route[0], route[1]) != (method.upper(), path)
            ]
        self.add(method, path, **answer)

    def add_callback(self, method: str, path: str | re.Pattern[str], callback: Callback) -> None:
        """Answer ``method path`` with what ``callback(request)`` returns."""
        self._register(method, path, callback)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _register(self, method: str, path: str | re.Pattern[str], callback: Callback) -> None:
        with self._lock:
            for known_method, known_path, callbacks in self._routes:
                if known_method == method.upper() and known_path == path:
                    callbacks.append(callback)
                    return
            self._routes.append((method.upper(), path, [callback]))

    def _answer(self, request: FakeRequest) -> Answer:
        with self._lock:
            self.calls.append(request)
            for method, path, callbacks in self._routes:
                matches = (
                    path.fullmatch(request.path)
                    if isinstance(path, re.Pattern)
                    else path == request.path
                )
                if method == request.method and matches:
                    callback = callbacks.pop(0) if len(callbacks) > 1 else callbacks[0]
                    break
            else:
                return (
                    599,
                    {},
                    _json_text({"error": f"no route for {request.method} {request.path}"}),
                )
        return callback(request)


def _json_text(value: Any) -> str:
    return json.dumps(value)


@dataclass
class FakeUsersService:
    """The users service's internal API, as a :class:`FakeService` answers it.

    It issues service tokens, and answers ``GET /internal/users/{id}/`` (an account's
    state, never its address) and ``GET /internal/users/{id}/contact/`` (its name and
    address) from its sets: an account (``user<id>``, ``user<id>@example.com``) is
    active, not staff and has an e-mail address unless listed (``without_email``: its
    address is empty). ``lookups`` counts both kinds; ``failure`` (:class:`Dropped` or
    :class:`Hung`) is raised by every lookup instead.
    """

    staff: set[int] = field(default_factory=set)
    inactive: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    without_email: set[int] = field(default_factory=set)
    failure: BaseException | None = None
    lookups: int = 0

    def account(self, request: FakeRequest) -> Answer:
        """The callback answering one account lookup."""
        user_id = self._lookup(request, r"/internal/users/(\d+)/")
        if user_id in self.missing:
            return _not_found()
        body = {
            "id": user_id,
            "username": f"user{user_id}",
            "is_active": user_id not in self.inactive,
            "is_staff": user_id in self.staff,
        }
        return 200, {}, json.dumps(body)

    def contact(self, request: FakeRequest) -> Answer:
        """The callback answering one lookup of an account's name and address."""
        user_id = self._lookup(request, r"/internal/users/(\d+)/contact/")
        if user_id in self.missing:
            return _not_found()
        body = {
            "id": user_id,
            "username": f"user{user_id}",
            "email": "" if user_id in self.without_email else f"user{user_id}@example.com",
        }
        return 200, {}, json.dumps(body)

    def install(self, fake: FakeService) -> None:
        """Answer the service-token, account and contact endpoints on ``fake``."""
        fake.add(
            "POST",
            "/internal/auth/token/",
            json={"access": "service-token", "expires_in": 300, "token_type": "Bearer"},
        )
        fake.add_callback("GET", re.compile(r"/internal/users/\d+/"), self.account)
        fake.add_callback("GET", re.compile(r"/internal/users/\d+/contact/"), self.contact)

    def _lookup(self, request: FakeRequest, pattern: str) -> int:
        """Count a lookup, raise the failure if there is one, and return the account's id."""
        self.lookups += 1
        if self.failure is not None:
            raise self.failure
        match = re.fullmatch(pattern, request.path)
        assert match, request.path
        return int(match.group(1))


def _not_found() -> Answer:
    return 404, {}, _json_text({"error": {"code": "not_found"}})


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


@dataclass
class FakeAccount:
    """An account of :class:`FakeUsersSignIn`; change its flags as the users service would."""

    id: int
    username: str
    password: str
    is_staff: bool = True
    is_active: bool = True


@dataclass
class FakeUsersSignIn:
    """The users service's sign-in as staff use it, as a :class:`FakeService` answers it.

    ``POST /api/auth/token/`` (a pair for an active account's right password; 401
    otherwise), ``POST /api/auth/token/refresh/`` (a refresh token is good once, and
    only for an active account), ``POST /api/auth/logout/`` and ``GET /api/users/me/``
    (401 for an inactive account). Access tokens are real RS256 tokens of ``tokens``,
    living ``access_seconds``. ``me_calls`` counts the account lookups; ``failure``
    (:class:`Dropped` or :class:`Hung`) is raised by every call instead.
    """

    tokens: TokenFactory = field(default_factory=TokenFactory)
    access_seconds: float = 300
    accounts: dict[int, FakeAccount] = field(default_factory=dict)
    failure: BaseException | None = None
    me_calls: int = 0
    revoked: set[str] = field(default_factory=set)
    _refresh_tokens: dict[str, int] = field(default_factory=dict)

    def add(
        self, username: str, password: str, *, is_staff: bool = True, is_active: bool = True
    ) -> FakeAccount:
        """A new account (ids from 101 up, unlike any a test makes locally)."""
        account = FakeAccount(101 + len(self.accounts), username, password, is_staff, is_active)
        self.accounts[account.id] = account
        return account

    def install(self, fake: FakeService) -> None:
        fake.add_callback("POST", "/api/auth/token/", self._sign_in)
        fake.add_callback("POST", "/api/auth/token/refresh/", self._renew)
        fake.add_callback("POST", "/api/auth/logout/", self._sign_out)
        fake.add_callback("GET", "/api/users/me/", self._me)

    def _pair(self, account: FakeAccount) -> Answer:
        refresh = f"refresh-{uuid.uuid4().hex}"
        self._refresh_tokens[refresh] = account.id
        access = self.tokens.access(
            user_id=account.id,
            username=account.username,
            is_staff=account.is_staff,
            lifetime=self.access_seconds,
        )
        return 200, {}, _json_text({"access": access, "refresh": refresh})

    def _fail_if_told(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _sign_in(self, request: FakeRequest) -> Answer:
        self._fail_if_told()
        body = request.json()
        for account in self.accounts.values():
            if (
                account.username.casefold() == str(body.get("username")).casefold()
                and account.password == body.get("password")
                and account.is_active
            ):
                return self._pair(account)
        return _refused()

    def _renew(self, request: FakeRequest) -> Answer:
        self._fail_if_told()
        refresh = str(request.json().get("refresh"))
        account = self.accounts.get(self._refresh_tokens.get(refresh, 0))
        if account is None or refresh in self.revoked or not account.is_active:
            return _refused()
        self.revoked.add(refresh)
        return self._pair(account)

    def _sign_out(self, request: FakeRequest) -> Answer:
        self._fail_if_told()
        self.revoked.add(str(request.json().get("refresh")))
        return 204, {}, b""

    def _me(self, request: FakeRequest) -> Answer:
        self._fail_if_told()
        self.me_calls += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(
                token,
                self.tokens.signing_key.public.key,
                algorithms=["RS256"],
                audience=self.tokens.audience,
            )
        except jwt.InvalidTokenError:
            return _refused()
        account = self.accounts.get(claims.get("user_id", 0))
        if account is None or not account.is_active:
            return _refused()
        body = {
            "id": account.id,
            "username": account.username,
            "email": f"{account.username}@example.com",
            "first_name": "",
            "last_name": "",
            "is_staff": account.is_staff,
            "date_joined": "2026-01-01T00:00:00Z",
        }
        return 200, {}, _json_text(body)


def _refused() -> Answer:
    return 401, {}, _json_text({"error": {"code": "not_authenticated"}})
