"""Shop traffic through the gateway (``nox -s load``; see tools/load/run.py).

Each simulated client is a signed-in shopper (tokens handed over by run.py in
``SOUK_LOAD_ACCOUNTS``, a JSON list of ``[user_id, token]``); run.py names the user
class to run.

- :class:`Shopper`: weights follow a shop's day: browse 70 %, search 15 %, order 10 %,
  cancel 5 %. ``SOUK_LOAD_MIX=orders`` makes every client place orders back to back
  instead (the order-throughput run); ``SOUK_LOAD_MIX=one-line`` too, each order one
  unit of one product, the client's own of ``SOUK_LOAD_PRODUCTS`` (the flash sale: one
  product for every client, against one product each).
- :class:`CheckoutShopper`: every client checks out back to back: 1-3 products put in
  its cart, then ``POST /api/checkout/`` paying with the mock provider's ``tok_visa``.
  Each client has an account of its own, so a cart is only ever its one client's.

With ``SOUK_LOAD_PLACED`` naming a file, each order answered 201 (a checkout: 202) is
written to it at the end as a line ``<order id> <time.time() when the answer arrived>``,
for run.py to time what follows (its confirmation mail; a checkout's payment). With
``SOUK_LOAD_STATS`` naming a file, the run's final statistics are written to it as JSON
once every client has stopped (Locust's CSV is rewritten once a second, so it can miss
the last second): ``{"rows": [...], "failures": [...]}``, rows with the CSV's columns.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time

from locust import FastHttpUser, constant, events, task

ACCOUNTS = json.loads(os.environ.get("SOUK_LOAD_ACCOUNTS", "[]"))
PRODUCT_IDS = json.loads(os.environ.get("SOUK_LOAD_PRODUCTS", "[]"))
MIX = os.environ.get("SOUK_LOAD_MIX", "mixed")
# A checkout's address: one the shop ships to (shipping's default rates), paid by the
# mock provider's card that always succeeds.
SHIPPING_ADDRESS = {
    "name": "Load Test",
    "line1": "1 High Street",
    "city": "London",
    "postal_code": "SW1A 1AA",
    "country": "GB",
}
PAYMENT_TOKEN = "tok_visa"
SEARCH_TERMS = ["tea", "coffee", "honey", "pot", "green", "kettle", "dates", "mint"]
_accounts = itertools.cycle(ACCOUNTS)
_client_numbers = itertools.count()
_lock = threading.Lock()
PLACED_FILE = os.environ.get("SOUK_LOAD_PLACED")
STATS_FILE = os.environ.get("SOUK_LOAD_STATS")
_answered: list[tuple[str, float]] = []  # (order id, when its 201/202 arrived)


def order_body() -> dict[str, list[dict[str, int]]]:
    lines = random.sample(PRODUCT_IDS, k=random.randint(1, 3))
    return {"items": [{"product_id": pid, "quantity": random.randint(1, 2)} for pid in lines]}


class Shopper(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        with _lock:
            _, token = next(_accounts)
            number = next(_client_numbers)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.placed: list[str] = []
        self.product = PRODUCT_IDS[number % len(PRODUCT_IDS)]

    def place(self) -> None:
        one_line = {"items": [{"product_id": self.product, "quantity": 1}]}
        with self.client.post(
            "/api/orders/",
            json=one_line if MIX == "one-line" else order_body(),
            headers=self.headers,
            name="order",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                answered_at = time.time()
                order_id = response.json()["id"]
                self.placed.append(order_id)
                _answered.append((order_id, answered_at))
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(70)
    def browse(self) -> None:
        if MIX in ("orders", "one-line"):
            return self.place()
        if random.random() < 0.5:
            self.client.get("/api/products/", headers=self.headers, name="browse list")
        else:
            pid = random.choice(PRODUCT_IDS)
            self.client.get(f"/api/products/{pid}/", headers=self.headers, name="browse product")
        return None

    @task(15)
    def search(self) -> None:
        if MIX in ("orders", "one-line"):
            return self.place()
        self.client.get(
            "/api/products/",
            params={"search": random.choice(SEARCH_TERMS), "in_stock": "true"},
            headers=self.headers,
            name="search",
        )
        return None

    @task(10)
    def order(self) -> None:
        self.place()

    @task(5)
    def cancel(self) -> None:
        if MIX in ("orders", "one-line"):
            return self.place()
        if not self.placed:
            return self.place()
        order_id = self.placed.pop()
        self.client.post(f"/api/orders/{order_id}/cancel/", headers=self.headers, name="cancel")
        return None


class CheckoutShopper(FastHttpUser):
    """Fills its cart with 1-3 products and checks out, back to back."""

    wait_time = constant(0)

    def on_start(self) -> None:
        with _lock:
            _, token = next(_accounts)
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def checkout(self) -> None:
        for pid in random.sample(PRODUCT_IDS, k=random.randint(1, 3)):
            with self.client.put(
                f"/api/cart/items/{pid}/",
                json={"quantity": random.randint(1, 2)},
                headers=self.headers,
                name="cart: put item",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    return
        with self.client.post(
            "/api/checkout/",
            json={"shipping_address": SHIPPING_ADDRESS, "payment_token": PAYMENT_TOKEN},
            headers=self.headers,
            name="checkout",
            catch_response=True,
        ) as response:
            if response.status_code == 202:
                answered_at = time.time()
                _answered.append((response.json()["id"], answered_at))
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


@events.test_start.add_listener
def _check_setup(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if not ACCOUNTS or not PRODUCT_IDS:
        raise RuntimeError("run through tools/load/run.py, which sets up accounts and products")


@events.test_stop.add_listener
def _write_answered(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if PLACED_FILE:
        with open(PLACED_FILE, "w") as placed:
            placed.writelines(f"{order_id} {at:.6f}\n" for order_id, at in _answered)


@events.test_stop.add_listener
def _write_stats(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if not STATS_FILE:
        return
    stats = environment.stats
    rows = [
        {
            "Name": entry.name,
            "Request Count": str(entry.num_requests),
            "Failure Count": str(entry.num_failures),
            "Requests/s": str(entry.total_rps),
            **{
                f"{percent}%": str(entry.get_response_time_percentile(percent / 100))
                for percent in (50, 95, 99)
            },
        }
        for entry in [*stats.entries.values(), stats.total]
    ]
    failures = [
        {"Name": error.name, "Error": str(error.error), "Occurrences": str(error.occurrences)}
        for error in stats.errors.values()
    ]
    with open(STATS_FILE, "w") as out:
        json.dump({"rows": rows, "failures": failures}, out)
