"""GET /api/payments/: a signed-in user reads the payments of their own orders, staff
anyone's; another user's order finds nothing, as an order with no payment does."""

import uuid

import pytest

from tests.conftest import cancelled_event, placed_event, signed_in

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/payments/"


@pytest.fixture
def pay(inbox, provider):
    """Handle ``order.placed`` for a new order of ``user_id``; the order's id."""

    def pay(*, user_id, card="tok_visa", total="62.90"):
        event = placed_event(user_id=user_id, card=card, total=total)
        assert inbox.receive(event) == "handled"
        return event.data["order_id"]

    return pay


def test_a_user_reads_the_payment_of_their_order(alice, pay):
    order_id = pay(user_id=1, total="62.90")

    response = alice.get(PAYMENTS, {"order_id": order_id})

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    [payment] = body["results"]
    assert set(payment) == {
        "id",
        "order_id",
        "status",
        "amount",
        "transaction_id",
        "reason",
        "created_at",
        "updated_at",
    }
    assert payment["order_id"] == order_id
    assert (payment["status"], payment["amount"], payment["reason"]) == ("succeeded", "62.90", None)
    assert payment["transaction_id"].startswith("txn_")


def test_a_declined_payment_shows_its_reason_and_no_transaction(alice, pay):
    order_id = pay(user_id=1, card="tok_insufficientFunds")

    [payment] = alice.get(PAYMENTS, {"order_id": order_id}).json()["results"]

    assert (payment["status"], payment["reason"]) == ("failed", "insufficient_funds")
    assert payment["transaction_id"] is None


def test_a_user_lists_only_their_own_payments_newest_first(alice, bob, pay):
    first = pay(user_id=1)
    pay(user_id=2)
    second = pay(user_id=1, card="tok_chargeDeclined")

    listed = alice.get(PAYMENTS).json()

    assert listed["count"] == 2
    assert [payment["order_id"] for payment in listed["results"]] == [second, first]


def test_another_users_order_finds_no_payment(alice, bob, pay):
    order_id = pay(user_id=1)

    theirs = bob.get(PAYMENTS, {"order_id": order_id})
    unknown = bob.get(PAYMENTS, {"order_id": str(uuid.uuid4())})

    assert theirs.status_code == 200
    assert (
        theirs.json()
        == unknown.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


def test_staff_read_anyones_payments(staff, pay, inbox):
    alices = pay(user_id=1)
    bobs = pay(user_id=2)
    inbox.receive(cancelled_event(order_id=bobs, user_id=2, was_paid=True))

    one = staff.get(PAYMENTS, {"order_id": alices}).json()
    every = staff.get(PAYMENTS).json()

    assert [payment["order_id"] for payment in one["results"]] == [alices]
    assert [(p["order_id"], p["status"]) for p in every["results"]] == [
        (bobs, "refunded"),
        (alices, "succeeded"),
    ]


def test_a_token_that_says_staff_is_not_enough_once_the_account_is_not(
    token_factory, users_service, pay
):
    pay(user_id=1)
    demoted = signed_in(token_factory.access(user_id=5, is_staff=True))  # not staff now

    listed = demoted.get(PAYMENTS).json()

    assert listed["count"] == 0
    assert users_service.lookups == 1


def test_an_order_cancelled_before_any_charge_shows_a_cancelled_payment(alice, inbox, provider):
    order_id = uuid.uuid4()
    inbox.receive(cancelled_event(order_id=order_id, user_id=1))

    [payment] = alice.get(PAYMENTS, {"order_id": str(order_id)}).json()["results"]

    assert (payment["status"], payment["transaction_id"]) == ("cancelled", None)


def test_payments_come_a_page_at_a_time(alice, pay):
    for _ in range(3):
        pay(user_id=1)

    page = alice.get(PAYMENTS, {"page_size": 2}).json()
    rest = alice.get(page["next"]).json()

    assert (page["count"], len(page["results"]), len(rest["results"])) == (3, 2, 1)
    assert rest["next"] is None


@pytest.mark.parametrize("order_id", ["not-a-uuid", "1", "1e3b-zz"])
def test_an_order_id_that_is_no_uuid_is_a_validation_error(alice, order_id):
    response = alice.get(PAYMENTS, {"order_id": order_id})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["order_id"]


def test_a_caller_must_be_signed_in(anonymous):
    response = anonymous.get(PAYMENTS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_service_token_is_not_a_user(token_factory):
    service = signed_in(token_factory.service(client_id="orders", scopes=["users:read"]))

    response = service.get(PAYMENTS)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_payments_are_only_read_here(alice, method):
    response = getattr(alice, method)(PAYMENTS, {}, format="json")

    assert response.status_code == 405
