"""Settings come from the environment; production refuses to start without its secrets."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from souk_common.db import database_config
from souk_common.settings import ServiceEnv, service_settings

BASE_DIR = Path("/srv/souk/services/users")


def make_env(**variables):
    return ServiceEnv("users", base_dir=BASE_DIR, environ_=variables)


def test_production_is_the_default_mode():
    assert make_env().is_production


@pytest.mark.parametrize(
    "method", ["secret_key", "allowed_hosts", "database", "proxy_secret", "events", "email"]
)
def test_production_refuses_to_start_without_a_required_setting(method):
    env = make_env(SOUK_ENV="production")

    with pytest.raises(ImproperlyConfigured, match="must be set when SOUK_ENV=production"):
        getattr(env, method)()


def test_the_proxy_secret_is_named_when_production_lacks_it():
    with pytest.raises(ImproperlyConfigured, match="GATEWAY_PROXY_SECRET must be set"):
        make_env(SOUK_ENV="production").proxy_secret()
    assert make_env(SOUK_ENV="production", GATEWAY_PROXY_SECRET="s").proxy_secret() == "s"
    assert make_env(SOUK_ENV="development").proxy_secret() == ""


def test_production_refuses_debug():
    env = make_env(SOUK_ENV="production", DJANGO_DEBUG="true")

    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env.debug()


def test_a_pod_allows_its_own_address_for_prometheus():
    env = make_env(SOUK_ENV="production", ALLOWED_HOSTS="users", POD_IP="10.1.2.3")

    assert env.allowed_hosts() == ["users", "10.1.2.3"]
    assert make_env(SOUK_ENV="production", ALLOWED_HOSTS="users").allowed_hosts() == ["users"]


def test_production_reads_what_is_set():
    env = make_env(
        SOUK_ENV="production",
        SECRET_KEY="s3cret",
        ALLOWED_HOSTS="api.example.com, users",
        USERS_DATABASE_URL="postgres://souk:pw@db:5432/users",
    )

    assert env.secret_key() == "s3cret"
    assert env.allowed_hosts() == ["api.example.com", "users"]
    database = env.database()
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db", 5432, "users")
    assert database["USER"] == "souk"
    assert database["CONN_HEALTH_CHECKS"] is False
    assert (
        make_env(
            SOUK_ENV="development",
            USERS_DATABASE_URL="postgres://db/users",
            DATABASE_HEALTH_CHECKS="1",
        ).database()["CONN_HEALTH_CHECKS"]
        is True
    )


def test_development_defaults_to_sqlite_under_var(tmp_path):
    env = make_env(SOUK_ENV="development", SOUK_VAR_DIR=str(tmp_path / "var"))

    database = env.database()

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "var" / "users.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert (tmp_path / "var").is_dir()
    assert env.secret_key().startswith("django-insecure-")
    assert "localhost" in env.allowed_hosts()


def test_events_go_through_the_embedded_broker_under_var_unless_a_broker_is_named(tmp_path):
    development = make_env(SOUK_ENV="development", SOUK_VAR_DIR=str(tmp_path))
    rabbitmq = make_env(
        SOUK_ENV="production",
        BROKER_URL="amqp://souk:secret@rabbitmq:5672//",
        HEARTBEAT_FILE="/run/souk/heartbeat",
    )

    assert development.events()["BROKER_URL"] == f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    assert rabbitmq.events(handlers="mail.handlers.handlers") == {
        "EVENTS_SOURCE": "users",
        "BROKER_URL": "amqp://souk:secret@rabbitmq:5672//",
        "EVENTS_HANDLERS": "mail.handlers.handlers",
        "EVENTS_MAX_ATTEMPTS": 5,
        "EVENTS_RETRY_SECONDS": 2.0,
        "EVENTS_RELAY_POLL_SECONDS": 0.1,
        "HEARTBEAT_FILE": "/run/souk/heartbeat",
    }
    assert development.events()["HEARTBEAT_FILE"] == ""  # none: nothing is written


def test_mail_is_written_under_var_unless_a_mail_server_is_named(tmp_path):
    development = make_env(SOUK_ENV="development", SOUK_VAR_DIR=str(tmp_path)).email()
    starttls = make_env(
        SOUK_ENV="production", EMAIL_URL="smtp+tls://shop:secret@mail.example.com:587"
    ).email()

    assert development["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert development["EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert starttls["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (starttls["EMAIL_HOST"], starttls["EMAIL_PORT"]) == ("mail.example.com", 587)
    assert (starttls["EMAIL_HOST_USER"], starttls["EMAIL_HOST_PASSWORD"]) == ("shop", "secret")
    assert starttls["EMAIL_USE_TLS"] is True
    assert starttls["EMAIL_TIMEOUT"] == 10.0


def test_var_dir_defaults_to_the_repository_var():
    assert make_env().var_dir == Path("/srv/souk/var")


def test_unknown_mode_is_refused():
    with pytest.raises(ImproperlyConfigured, match="SOUK_ENV"):
        make_env(SOUK_ENV="staging")


def test_admin_cookies_are_https_only_in_production_unless_turned_off():
    assert make_env(SOUK_ENV="production").secure_cookies() is True
    assert make_env(SOUK_ENV="production", SECURE_COOKIES="false").secure_cookies() is False
    assert make_env(SOUK_ENV="development").secure_cookies() is False


def test_each_service_names_its_admin_cookies_for_itself(tmp_path):
    def cookies(service):
        env = ServiceEnv(
            service,
            base_dir=BASE_DIR,
            environ_={"SOUK_ENV": "development", "SOUK_VAR_DIR": str(tmp_path)},
        )
        built = service_settings(env, apps=[], title=service, description="")
        return built["SESSION_COOKIE_NAME"], built["CSRF_COOKIE_NAME"]

    assert cookies("orders") == ("souk_orders_session", "souk_orders_csrftoken")
    assert set(cookies("orders")).isdisjoint(cookies("products"))


def test_hsts_is_off_until_asked_for():
    assert make_env(SOUK_ENV="production").hsts_seconds() == 0
    assert make_env(SECURE_HSTS_SECONDS="31536000").hsts_seconds() == 31536000


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("off", False), ("", False)]
)
def test_booleans(raw, expected):
    assert make_env(FLAG=raw).get_bool("FLAG") is expected


def test_a_non_boolean_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        make_env(FLAG="maybe").get_bool("FLAG")


def test_numbers_and_lists():
    env = make_env(COUNT="3", RATIO="0.5", NAMES="a, b,,c")

    assert env.get_int("COUNT", 1) == 3
    assert env.get_int("MISSING", 7) == 7
    assert env.get_float("RATIO", 1.0) == 0.5
    assert env.get_list("NAMES") == ["a", "b", "c"]
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        make_env(COUNT="three").get_int("COUNT", 1)


@pytest.mark.parametrize(
    ("method", "raw", "message"),
    [
        ("get_bool", "2", "not a boolean"),
        ("get_float", "3 seconds", "not a number"),
        ("get_float", "1.5.2", "not a number"),
    ],
)
def test_a_value_is_refused_rather_than_guessed_at(method, raw, message):
    # environ.Env reads "2" as true, "3 seconds" as 3.0 and "1.5.2" as 15.2.
    with pytest.raises(ImproperlyConfigured, match=f"VALUE={raw!r} is {message}"):
        getattr(make_env(VALUE=raw), method)("VALUE", 1)


def test_values_are_taken_as_written():
    # environ.Env would read "$..." as the name of another variable, and "" as no number.
    env = make_env(SOUK_ENV="production", SECRET_KEY="$ecret-key", COUNT="")

    assert env.secret_key() == "$ecret-key"
    assert env.get_int("COUNT", 7) == 7


def test_postgres_gets_a_connect_timeout():
    config = database_config("postgres://postgres@127.0.0.1:5432/orders", connect_timeout=2)

    assert config["OPTIONS"]["connect_timeout"] == 2
