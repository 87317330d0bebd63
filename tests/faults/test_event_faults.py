"""Events under faults: a relay or a consumer killed, the broker cut off, the mail server
down, each in the middle of order traffic. Afterwards every confirmed order has had
exactly one confirmation mail, and every outbox is empty."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections import Counter

import pytest

from harness import RunningStack, create_accounts, new_product, place_order, wait_for

BUYERS = 4


class Orders:
    """Buyers placing ``count`` one-line orders between them, as fast as they are answered."""

    def __init__(self, system: RunningStack, count: int) -> None:
        self.system = system
        self.product = new_product(system, stock=count * 2)
        self.accounts = create_accounts(system, BUYERS, f"ev{uuid.uuid4().hex[:8]}-")
        self.remaining = count
        self.lock = threading.Lock()
        self.placed: list[str] = []
        self.refused: list[tuple[int, str]] = []
        self.threads = [
            threading.Thread(target=self.buy, args=(token,)) for _, token in self.accounts
        ]

    def buy(self, token: str) -> None:
        while True:
            with self.lock:
                if self.remaining == 0:
                    return
                self.remaining -= 1
            response = place_order(self.system, token, [(self.product, 1)], timeout=30)
            with self.lock:
                if response.status_code == 201:
                    self.placed.append(response.json()["id"])
                else:
                    self.refused.append((response.status_code, response.text[:200]))

    def __enter__(self) -> Orders:
        for thread in self.threads:
            thread.start()
        return self

    def wait(self) -> list[str]:
        for thread in self.threads:
            thread.join(timeout=300)
        assert not self.refused, self.refused[:3]
        return self.placed

    def __exit__(self, *exc: object) -> None:
        self.wait()


def confirmations(system: RunningStack, order_ids: list[str]) -> Counter[str]:
    """How many confirmation mails each of ``order_ids`` has had."""
    wanted = set(order_ids)
    counts: Counter[str] = Counter()
    for mail in list(system.smtp.mail):
        words = mail.subject.split()
        if mail.subject.endswith("is confirmed") and words[-3] in wanted:
            counts[words[-3]] += 1
    return counts


def assert_one_mail_each(system: RunningStack, order_ids: list[str], within: float = 90) -> None:
    wait_for(lambda: len(confirmations(system, order_ids)) == len(order_ids), timeout=within)
    time.sleep(2)  # a copy would arrive meanwhile
    doubled = {oid: n for oid, n in confirmations(system, order_ids).items() if n != 1}
    assert not doubled, f"orders mailed more than once: {doubled}"


def outbox_drains(system: RunningStack, service: str = "orders", within: float = 30) -> None:
    def waiting() -> bool:
        status = json.loads(system.stack.manage(service, "events_status", capture=True))
        return status["outbox_waiting"] == 0

    wait_for(waiting, timeout=within, interval=0.5)


def test_a_relay_killed_again_and_again_mid_traffic_loses_no_event_and_doubles_no_mail(system):
    with Orders(system, 200) as orders:
        for kills in range(1, 4):
            wait_for(lambda kills=kills: len(orders.placed) >= 50 * kills, timeout=120)
            system.stop("orders-relay", signal.SIGKILL)  # between publish and mark-sent, or not
            time.sleep(0.3)
            system.start("orders-relay")

    assert len(orders.placed) == 200
    assert_one_mail_each(system, orders.placed)
    outbox_drains(system)


def test_a_consumer_killed_mid_handler_sends_each_mail_once(system):
    system.smtp.hold()  # the next mail waits for its answer: its handler is mid-way
    with Orders(system, 20) as orders:
        assert system.smtp.wait_until_holding(60)
        system.stop("notifications-consumer", signal.SIGKILL)
        system.smtp.release()  # the killed sender never had its answer: not delivered
        system.start("notifications-consumer")

    assert_one_mail_each(system, orders.placed)


def test_a_broker_cut_off_for_ten_seconds_mid_traffic_loses_nothing(system):
    if system.broker_proxy is None:
        pytest.skip("the embedded broker has no connection to cut (no RabbitMQ here)")
    with Orders(system, 60) as orders:
        wait_for(lambda: len(orders.placed) >= 10, timeout=60)
        system.broker_proxy.cut()
        time.sleep(10)  # orders go on being placed: the outbox keeps their events
        system.broker_proxy.restore()

    assert len(orders.placed) == 60
    assert_one_mail_each(system, orders.placed)
    outbox_drains(system)


def test_a_mail_server_down_for_ten_seconds_delays_mail_and_loses_none(system):
    system.smtp.stop()
    try:
        with Orders(system, 20) as orders:
            pass
        time.sleep(10)
        assert not confirmations(system, orders.placed)
    finally:
        system.smtp.start()

    assert_one_mail_each(system, orders.placed)
