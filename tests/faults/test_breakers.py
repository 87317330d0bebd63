"""A breaker never sticks: orders recovers from a users hang that spans its token renewal.

Once, the half-open probe of orders' breaker on users failed inside the service
token's renewal, which recorded neither a success nor a failure: the probe slot
was never given back, and orders answered 503 to every order for good while
its health said all was well.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

from harness import RunningStack, create_accounts, new_product, place_order, wait_for

# Long enough for orders' breaker on users to open (five timeouts of 3 s, from eight
# buyers at once), wait its 5 s, and let a probe through once the 10 s token is due.
HANG_SECONDS = 12


def test_orders_recover_after_users_hangs_across_a_token_renewal(system: RunningStack) -> None:
    product = new_product(system, stock=1000)
    accounts = create_accounts(system, 8, f"renew{uuid.uuid4().hex[:6]}")
    token = accounts[0][1]
    assert place_order(system, token, [(product, 1)]).status_code == 201

    stop = threading.Event()

    def keep_ordering(buyer_token: str) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                place_order(system, buyer_token, [(product, 1)], timeout=8)
            time.sleep(0.2)

    buyers = [threading.Thread(target=keep_ordering, args=(t,)) for _, t in accounts]
    system.pause("users")
    try:
        for buyer in buyers:
            buyer.start()
        time.sleep(HANG_SECONDS)
    finally:
        system.resume("users")
        stop.set()
        for buyer in buyers:
            buyer.join(timeout=30)

    # Within the breaker's reset time (5 s) and a token fetch, orders takes orders again.
    wait_for(
        lambda: place_order(system, token, [(product, 1)], timeout=8).status_code == 201,
        timeout=20,
        interval=0.5,
    )
