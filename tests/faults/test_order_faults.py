"""Orders in flight while a service hangs, dies or restarts: every one ends settled.

Each scenario sends concurrent orders through the gateway, breaks one service
in the middle (SIGSTOP past the read timeout, SIGKILL, restart), lets it
recover, and then checks what a shop owner would check: no order left
pending, and for the product on sale, stock on hand + units in confirmed
orders == the stock it started with (and the products ledger agrees).
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable

import pytest

from harness import (
    RunningStack,
    admin_headers,
    check_stock_invariant,
    create_accounts,
    new_product,
    place_order,
    product_stock,
)

STARTING_STOCK = 1000
BUYERS = 8
SETTLED = {"confirmed", "rejected", "failed", "cancelled"}


def user_orders(system: RunningStack, user_ids: list[int]) -> list[dict] | None:
    headers = admin_headers(system)
    orders = []
    for user_id in user_ids:
        url = f"{system.gateway}/api/orders/?user_id={user_id}&page_size=100"
        while url:
            response = system.http.get(url, headers=headers, timeout=10)
            if response.status_code != 200:  # e.g. the gateway's breaker still open: later
                return None
            page = response.json()
            orders += page["results"]
            url = page["next"] and f"{system.gateway}{page['next']}"
    return orders


def wait_until_settled(system: RunningStack, user_ids: list[int], within: float = 60) -> list[dict]:
    deadline = time.monotonic() + within
    while True:
        orders = user_orders(system, user_ids)
        if orders is not None and all(order["status"] in SETTLED for order in orders):
            return orders
        if time.monotonic() > deadline:
            unsettled = [(o["id"], o["status"]) for o in orders or [] if o["status"] not in SETTLED]
            raise AssertionError(f"orders not settled after {within}s: {orders and unsettled}")
        time.sleep(1)


def orders_during(system: RunningStack, fault: Callable[[], None]) -> tuple[int, list[int]]:
    """Eight buyers order 2 units at a time, again and again, while ``fault`` runs.

    Traffic starts a second before the fault and goes on a second after it, so
    the fault lands in the middle of orders in flight. Returns the product and
    the buyers' user ids.
    """
    product = new_product(system, stock=STARTING_STOCK)
    accounts = create_accounts(system, BUYERS, f"fault{uuid.uuid4().hex[:6]}-")
    answers: list[int] = []
    stop = threading.Event()

    def buy(token: str) -> None:
        while not stop.is_set():
            try:
                status = place_order(system, token, [(product, 2)], timeout=60).status_code
            except Exception:  # noqa: BLE001 - a dropped connection is an answer too
                status = 0
            answers.append(status)

    buyers = [threading.Thread(target=buy, args=(token,)) for _, token in accounts]
    for buyer in buyers:
        buyer.start()
    time.sleep(1)
    fault()
    time.sleep(1)
    stop.set()
    for buyer in buyers:
        buyer.join(timeout=90)
    assert 201 in answers, "no order got through before the fault"
    assert set(answers) - {201}, "the fault did not hit any order in flight"
    return product, [user_id for user_id, _ in accounts]


def assert_nothing_lost(system: RunningStack, product: int, user_ids: list[int]) -> None:
    orders = wait_until_settled(system, user_ids)
    confirmed_units = sum(
        line["quantity"]
        for order in orders
        if order["status"] == "confirmed"
        for line in order["items"]
        if line["product_id"] == product
    )
    assert product_stock(system, product) + confirmed_units == STARTING_STOCK
    check_stock_invariant(system)


@pytest.fixture
def restore(system: RunningStack):
    """Whatever a scenario broke is running again afterwards."""
    yield
    for process, popen in list(system.processes.items()):
        if popen.poll() is not None:
            system.processes.pop(process)
    for process in ("users", "products", "orders", "gateway", "reconciler"):
        if process in system.processes:
            system.resume(process)
        else:
            system.start(process)


def test_products_hung_longer_than_the_read_timeout(system, restore):
    def hang_products() -> None:
        system.pause("products")
        time.sleep(5)  # past the orders service's 3 s read timeout
        system.resume("products")

    product, users = orders_during(system, hang_products)

    assert_nothing_lost(system, product, users)


def test_products_killed_and_restarted(system, restore):
    def kill_products() -> None:
        system.stop("products", signal.SIGKILL)
        time.sleep(2)
        system.start("products")

    product, users = orders_during(system, kill_products)

    assert_nothing_lost(system, product, users)


def test_orders_killed_mid_saga_and_restarted(system, restore):
    def kill_orders_mid_saga() -> None:
        # Hold products a moment so sagas are surely waiting on reservations, then kill orders.
        system.pause("products")
        time.sleep(0.5)
        system.stop("orders", signal.SIGKILL)
        system.resume("products")
        time.sleep(1)
        system.start("orders")

    product, users = orders_during(system, kill_orders_mid_saga)

    assert_nothing_lost(system, product, users)
