"""The test database choice of contract §1."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from souk_common.testing import database_for_tests, run_concurrently

UNREACHABLE = "postgres://postgres@127.0.0.1:1/postgres"


def test_falls_back_to_sqlite_loudly(monkeypatch, capsys):
    monkeypatch.setenv("POSTGRES_URL", UNREACHABLE)
    monkeypatch.delenv("REQUIRE_POSTGRES", raising=False)

    config = database_for_tests("orders")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "SKIPPED" in capsys.readouterr().err


def test_require_postgres_makes_a_missing_server_an_error(monkeypatch):
    monkeypatch.setenv("POSTGRES_URL", UNREACHABLE)
    monkeypatch.setenv("REQUIRE_POSTGRES", "1")

    with pytest.raises(ImproperlyConfigured, match="REQUIRE_POSTGRES=1"):
        database_for_tests("orders")


@pytest.mark.postgres
def test_uses_postgres_when_it_answers(monkeypatch):
    monkeypatch.delenv("SOUK_TEST_DATABASE_SUFFIX", raising=False)
    config = database_for_tests("orders")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["TEST"]["NAME"] == "test_souk_orders"


@pytest.mark.postgres
def test_a_checkout_may_name_test_databases_of_its_own(monkeypatch):
    monkeypatch.setenv("SOUK_TEST_DATABASE_SUFFIX", "_second")

    assert database_for_tests("orders")["TEST"]["NAME"] == "test_souk_orders_second"


def test_run_concurrently_returns_results_and_errors_in_order():
    def work(index):
        if index == 2:
            raise ValueError(index)
        return index * 10

    results = run_concurrently(work, 4)

    assert results[:2] == [0, 10]
    assert isinstance(results[2], ValueError)
    assert results[3] == 30
