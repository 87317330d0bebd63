"""Accounts and tokens through the gateway, and service identity directly (contract §4)."""

import uuid

import pytest

from harness import PASSWORD, bearer, register_and_sign_in, sign_in


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def test_register_sign_in_me_refresh_logout(system):
    username = unique("ann")
    pair = register_and_sign_in(system, username)
    gateway = system.gateway

    me = system.http.get(f"{gateway}/api/users/me/", headers=bearer(pair["access"]), timeout=5)
    assert me.status_code == 200
    assert me.json()["username"] == username

    refreshed = system.http.post(
        f"{gateway}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=5
    )
    assert refreshed.status_code == 200
    reused = system.http.post(
        f"{gateway}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=5
    )
    assert reused.status_code == 401

    new_refresh = refreshed.json()["refresh"]
    logout = system.http.post(
        f"{gateway}/api/auth/logout/", json={"refresh": new_refresh}, timeout=5
    )
    assert logout.status_code == 204
    after = system.http.post(
        f"{gateway}/api/auth/token/refresh/", json={"refresh": new_refresh}, timeout=5
    )
    assert after.status_code == 401


def test_jwks_through_the_gateway(system):
    response = system.http.get(f"{system.gateway}/api/auth/jwks.json", timeout=5)

    assert response.status_code == 200
    assert all(key["alg"] == "RS256" and key["kid"] for key in response.json()["keys"])


def test_staff_deactivate_a_user_who_then_cannot_sign_in(system):
    username = unique("bea")
    pair = register_and_sign_in(system, username)
    admin = sign_in(system, "admin", system.stack.extra_env["DEMO_ADMIN_PASSWORD"])
    me = system.http.get(
        f"{system.gateway}/api/users/me/", headers=bearer(pair["access"]), timeout=5
    )

    response = system.http.patch(
        f"{system.gateway}/api/users/{me.json()['id']}/",
        json={"is_active": False},
        headers=bearer(admin["access"]),
        timeout=5,
    )
    assert response.status_code == 200

    signin = system.http.post(
        f"{system.gateway}/api/auth/token/",
        json={"username": username, "password": PASSWORD},
        timeout=5,
    )
    assert signin.status_code == 401


def test_service_identity_is_not_routed_but_works_directly(system):
    credentials = {
        "client_id": "orders",
        "client_secret": system.stack.secret("orders-client-secret"),
    }

    through_gateway = system.http.post(
        f"{system.gateway}/internal/auth/token/", json=credentials, timeout=5
    )
    direct = system.http.post(
        f"{system.url('users')}/internal/auth/token/", json=credentials, timeout=5
    )

    assert through_gateway.status_code == 404
    assert direct.status_code == 200
    assert direct.json()["scope"] == "cart:checkout shipping:quote stock:reserve users:read"


@pytest.mark.parametrize("kind", ["alg-none", "hs256-public-key", "expired", "refresh"])
def test_forged_tokens_are_refused_through_the_gateway(system, kind):
    from souk_common.keys import SigningKey
    from souk_common.testing import TokenFactory

    signing_key = SigningKey.from_pem(system.stack.signing_key_path.read_text())
    token = TokenFactory(signing_key).forged(kind)

    response = system.http.get(f"{system.gateway}/api/users/me/", headers=bearer(token), timeout=5)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
