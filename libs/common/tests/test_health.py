"""Liveness says the process answers; readiness says the database does."""

import socket

import pytest
from django.db import connection
from django.test import Client


def test_live():
    response = Client().get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_the_database_answers():
    response = Client().get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


@pytest.fixture
def unreachable_database():
    """Point the default connection at a database that does not exist, then restore it."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = str(free_port())
    else:
        connection.settings_dict["NAME"] = "/nonexistent/directory/db.sqlite3"
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.postgres  # an in-memory SQLite test database cannot be taken away
@pytest.mark.django_db
def test_not_ready_when_the_database_does_not_answer(unreachable_database):
    response = Client().get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable"}


def test_health_refuses_writes():
    assert Client().post("/health/live").status_code == 405
