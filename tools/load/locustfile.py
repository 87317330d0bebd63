"""Mixed shop traffic through the gateway (``nox -s load``; see tools/load/run.py).

Each simulated client is a signed-in shopper (tokens handed over by run.py in
``SOUK_LOAD_ACCOUNTS``, a JSON list of ``[user_id, token]``). Weights follow a
shop's day: browse 70 %, search 15 %, order 10 %, cancel 5 %. ``SOUK_LOAD_MIX=orders``
makes every client place orders back to back instead (the order-throughput run).
With ``SOUK_LOAD_PLACED`` naming a file, each order answered 201 is written to it at the
end as a line ``<order id> <time.time() when the answer arrived>``, for run.py to time
its confirmation mail.
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
SEARCH_TERMS = ["tea", "coffee", "honey", "pot", "green", "kettle", "dates", "mint"]
_accounts = itertools.cycle(ACCOUNTS)
_lock = threading.Lock()
PLACED_FILE = os.environ.get("SOUK_LOAD_PLACED")
_answered: list[tuple[str, float]] = []  # (order id, when its 201 arrived), for PLACED_FILE


def order_body() -> dict[str, list[dict[str, int]]]:
    lines = random.sample(PRODUCT_IDS, k=random.randint(1, 3))
    return {"items": [{"product_id": pid, "quantity": random.randint(1, 2)} for pid in lines]}


class Shopper(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        with _lock:
            _, token = next(_accounts)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.placed: list[str] = []

    def place(self) -> None:
        with self.client.post(
            "/api/orders/",
            json=order_body(),
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
        if MIX == "orders":
            return self.place()
        if random.random() < 0.5:
            self.client.get("/api/products/", headers=self.headers, name="browse list")
        else:
            pid = random.choice(PRODUCT_IDS)
            self.client.get(f"/api/products/{pid}/", headers=self.headers, name="browse product")
        return None

    @task(15)
    def search(self) -> None:
        if MIX == "orders":
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
        if MIX == "orders":
            return self.place()
        if not self.placed:
            return self.place()
        order_id = self.placed.pop()
        self.client.post(f"/api/orders/{order_id}/cancel/", headers=self.headers, name="cancel")
        return None


@events.test_start.add_listener
def _check_setup(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if not ACCOUNTS or not PRODUCT_IDS:
        raise RuntimeError("run through tools/load/run.py, which sets up accounts and products")


@events.test_stop.add_listener
def _write_answered(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if PLACED_FILE:
        with open(PLACED_FILE, "w") as placed:
            placed.writelines(f"{order_id} {at:.6f}\n" for order_id, at in _answered)
