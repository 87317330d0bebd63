"""Every service in turn hung, then killed and restarted, in the middle of order traffic.

Eight buyers place orders back to back, each with an Idempotency-Key, retrying
with the same key when an answer does not come back (as a careful client
does). One service is broken meanwhile: SIGSTOP past every timeout then
SIGCONT, or SIGKILL then a restart. Afterwards, what a shop owner would check:

- no order is left pending, failing or cancelling (within a minute);
- for the product on sale, stock on hand + units in confirmed orders == the
  stock it started with, and products' ledger invariant holds;
- one key never made two orders;
- the routes that do not need the broken service kept answering, fast.
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
    bearer,
    check_stock_invariant,
    create_accounts,
    new_product,
    place_order,
    product_stock,
)

STARTING_STOCK = 1000
BUYERS = 8
SETTLED = {"confirmed", "rejected", "failed", "cancelled"}
HANG_SECONDS = 7  # past the orders service's 3 s calls and the gateway's 5 s routes
# A buyer gives up on an answer sooner than the hang lasts, and tries again with the
# same key: so every fault, a hung gateway too, leaves requests abandoned in flight.
CLIENT_TIMEOUT = 4
# While a service is broken, a route that does not need it is probed.
PROBES = {
    "users": "/api/products/",
    "products": "/api/users/me/",
    "orders": "/api/products/",
    "gateway": None,  # nothing answers through a broken gateway
}


def user_orders(system: RunningStack, user_ids: list[int]) -> list[dict] | None:
    headers = admin_headers(system)
    orders: list[dict] = []
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
        try:
            orders = user_orders(system, user_ids)
        except OSError:  # the gateway is still coming back
            orders = None
        if orders is not None and all(order["status"] in SETTLED for order in orders):
            return orders
        if time.monotonic() > deadline:
            unsettled = [(o["id"], o["status"]) for o in orders or [] if o["status"] not in SETTLED]
            raise AssertionError(f"orders not settled after {within}s: {orders and unsettled}")
        time.sleep(1)


class Traffic:
    """Buyers placing orders with idempotency keys, retrying a lost answer with the same key."""

    def __init__(self, system: RunningStack, product: int, accounts: list[tuple[int, str]]) -> None:
        self.system = system
        self.product = product
        self.accounts = accounts
        self.stop = threading.Event()
        self.answers: list[int] = []
        self.keys: set[str] = set()
        self.threads = [threading.Thread(target=self.buy, args=(token,)) for _, token in accounts]

    def buy(self, token: str) -> None:
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            self.keys.add(key)
            for _attempt in range(5):
                try:
                    status = place_order(
                        self.system, token, [(self.product, 2)], key=key, timeout=CLIENT_TIMEOUT
                    ).status_code
                except OSError:
                    status = 0
                self.answers.append(status)
                # 409 here means "still being settled": the first attempt is in flight.
                if status not in (0, 409, 502, 503, 504):
                    break
                time.sleep(0.5)

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


class Probe:
    """Asks one route over and over while the fault lasts; remembers status and time."""

    def __init__(self, system: RunningStack, path: str | None, token: str) -> None:
        self.system, self.path, self.token = system, path, token
        self.results: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        while self.path and not self.stop.is_set():
            started = time.monotonic()
            try:
                status = self.system.http.get(
                    f"{self.system.gateway}{self.path}", headers=bearer(self.token), timeout=10
                ).status_code
            except OSError:
                status = 0
            self.results.append((status, time.monotonic() - started))
            time.sleep(0.1)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def hang(system: RunningStack, service: str) -> None:
    system.pause(service)
    time.sleep(HANG_SECONDS)
    system.resume(service)


def kill_and_restart(system: RunningStack, service: str) -> None:
    system.stop(service, signal.SIGKILL)
    time.sleep(2)
    system.start(service)


FAULTS: dict[str, Callable[[RunningStack, str], None]] = {
    "hang": hang,
    "kill": kill_and_restart,
}


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
    time.sleep(6)  # breakers that opened during the fault close again


def orders_per_key(system: RunningStack, user_ids: list[int]) -> tuple[int, int]:
    code = (
        "from orders.models import IdempotencyKey, Order; "
        f"print(Order.objects.filter(user_id__in={user_ids}).count(), "
        f"IdempotencyKey.objects.filter(user_id__in={user_ids}, order__isnull=False).count())"
    )
    output = system.stack.manage("orders", "shell", "--no-imports", "-c", code, capture=True)
    orders, keyed = output.strip().splitlines()[-1].split()
    return int(orders), int(keyed)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("service", list(PROBES))
def test_orders_survive(system, restore, service, fault):
    product = new_product(system, stock=STARTING_STOCK)
    accounts = create_accounts(system, BUYERS + 1, f"fault{uuid.uuid4().hex[:6]}-")
    buyers, (_, prober) = accounts[:BUYERS], accounts[BUYERS]
    user_ids = [user_id for user_id, _ in buyers]

    with Traffic(system, product, buyers) as traffic:
        time.sleep(1)
        with Probe(system, PROBES[service], prober) as probe:
            FAULTS[fault](system, service)
        time.sleep(1)

    assert 201 in traffic.answers, "no order got through"
    assert set(traffic.answers) - {201}, "the fault hit no order in flight"
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
    placed, keyed = orders_per_key(system, user_ids)
    assert placed == keyed, "every order has its own key"
    assert placed <= len(traffic.keys), "no key made two orders"
    if PROBES[service]:
        assert probe.results, "the other route was probed"
        assert all(status == 200 for status, _ in probe.results), probe.results
        assert max(seconds for _, seconds in probe.results) < 3.0, probe.results
