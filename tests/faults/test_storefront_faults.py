"""The storefront when what it depends on fails: a page for people, never a traceback, the
shop back as soon as the gateway is, and one part of the API down leaves the rest."""

from __future__ import annotations

import re
import uuid

import requests

from harness import PASSWORD, RunningStack, wait_for


def page(system: RunningStack, path: str = "/") -> requests.Response:
    return requests.get(system.url("storefront") + path, timeout=15)


def test_a_stopped_gateway_is_a_friendly_page_and_its_return_the_shop_again(
    system: RunningStack,
) -> None:
    assert page(system).status_code == 200
    system.stop("gateway")
    try:
        down = page(system)
    finally:
        system.start("gateway")

    assert down.status_code == 503
    assert down.headers["Retry-After"] == "5"
    assert "The shop is unavailable for a moment" in down.text
    assert "Traceback" not in down.text
    # Back without restarting the storefront (its breaker lets a probe through after 5 s).
    assert wait_for(lambda: page(system).status_code == 200, timeout=30, interval=0.5)


def signed_up(system: RunningStack) -> requests.Session:
    """A browser-like session of a new shopper, signed up through the storefront's form."""
    session = requests.Session()
    form = session.get(system.url("storefront") + "/signup/", timeout=15).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form
    username = f"faults{uuid.uuid4().hex[:8]}"
    answer = session.post(
        system.url("storefront") + "/signup/",
        data={
            "csrfmiddlewaretoken": token[1],
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
        },
        allow_redirects=False,
        timeout=15,
    )
    assert answer.status_code == 302, answer.text
    return session


def test_orders_down_leaves_the_catalogue_working(system: RunningStack) -> None:
    """One client per part of the API, each with its own breaker: the order history
    failing until its breaker opens leaves the catalogue (another breaker) answering."""
    shopper = signed_up(system)
    system.stop("orders")
    try:
        history = [shopper.get(system.url("storefront") + "/orders/", timeout=15) for _ in range(8)]
        catalogue = shopper.get(system.url("storefront") + "/", timeout=15)
    finally:
        system.start("orders")

    assert {answer.status_code for answer in history} == {503}
    assert "The shop is unavailable for a moment" in history[-1].text
    assert catalogue.status_code == 200
    assert "Sencha green tea" in catalogue.text
    assert wait_for(
        lambda: shopper.get(system.url("storefront") + "/orders/", timeout=15).status_code == 200,
        timeout=30,
        interval=0.5,
    )
