"""The internal reservations API: all or nothing, idempotent, released once."""

from decimal import Decimal

import pytest

from inventory.apis import ReservationCreateApi
from inventory.models import Reservation, StockMovement
from inventory.selectors import stock_invariant_violations
from souk_common.testing import FORGED_TOKEN_KINDS
from tests.conftest import reload

pytestmark = pytest.mark.django_db


def reserve(client, reference, *items, **extra):
    body = {
        "reference": reference,
        "items": [{"product_id": p.pk, "quantity": q} for p, q in items],
        **extra,
    }
    return client.post("/internal/reservations/", body, format="json")


def release(client, reference):
    return client.post(f"/internal/reservations/{reference}/release/")


def commit(client, reference):
    return client.post(f"/internal/reservations/{reference}/commit/")


@pytest.fixture(autouse=True)
def _invariant_holds_after_each_test(db):
    yield
    assert stock_invariant_violations() == []


def test_reserve_takes_stock_and_records_names_and_prices(service_api, make_product):
    tea = make_product("Sencha", price="9.50", stock=10)
    pot = make_product("Teapot", price="39.00", stock=2)

    response = reserve(service_api, "order-1", (tea, 3), (pot, 1))

    assert response.status_code == 201
    assert response.json() == {
        "reference": "order-1",
        "status": "reserved",
        "items": [
            {"product_id": tea.pk, "name": "Sencha", "unit_price": "9.50", "quantity": 3},
            {"product_id": pot.pk, "name": "Teapot", "unit_price": "39.00", "quantity": 1},
        ],
    }
    assert (reload(tea).stock, reload(pot).stock) == (7, 1)


def test_a_later_price_change_does_not_change_the_reservation(service_api, staff_api, make_product):
    tea = make_product(price="9.50")
    reserve(service_api, "order-1", (tea, 1))
    staff_api.patch(f"/api/products/{tea.pk}/", {"price": "12.00"}, format="json")

    replay = reserve(service_api, "order-1", (tea, 1))

    assert replay.json()["items"][0]["unit_price"] == "9.50"


def test_short_stock_reserves_nothing_and_names_every_short_line(service_api, make_product):
    plenty = make_product(stock=10)
    short = make_product(stock=1)
    empty = make_product(stock=0)

    response = reserve(service_api, "order-2", (plenty, 5), (short, 2), (empty, 1))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == [
        {"product_id": short.pk, "requested": 2, "available": 1},
        {"product_id": empty.pk, "requested": 1, "available": 0},
    ]
    assert (reload(plenty).stock, reload(short).stock) == (10, 1)
    assert not Reservation.objects.exists()
    assert not StockMovement.objects.filter(kind="reserve").exists()


def test_unknown_or_retired_products_are_refused_by_name(service_api, make_product):
    product = make_product(stock=10)
    retired = make_product(stock=10, is_active=False)

    response = reserve(service_api, "order-3", (product, 1), (retired, 1))
    body = {"reference": "order-4", "items": [{"product_id": 999999, "quantity": 1}]}
    unknown = service_api.post("/internal/reservations/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"unavailable_products": [retired.pk]}
    assert unknown.json()["error"]["details"] == {"unavailable_products": [999999]}
    assert reload(product).stock == 10


def test_same_reference_same_items_is_the_same_answer_and_stock_taken_once(
    service_api, make_product
):
    product = make_product(stock=10)

    first = reserve(service_api, "order-5", (product, 4))
    second = reserve(service_api, "order-5", (product, 4))

    assert second.status_code == first.status_code == 201
    assert second.json() == first.json()
    assert reload(product).stock == 6


def test_same_reference_other_items_is_422(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-6", (product, 4))

    response = reserve(service_api, "order-6", (product, 5))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert reload(product).stock == 6


def test_commit_is_idempotent_and_keeps_stock_sold(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-7", (product, 3))

    assert commit(service_api, "order-7").json()["status"] == "committed"
    assert commit(service_api, "order-7").status_code == 200
    assert reload(product).stock == 7
    assert StockMovement.objects.filter(kind="commit").count() == 1


def test_release_of_held_stock_returns_it_once(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-8", (product, 3))

    responses = [release(service_api, "order-8") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["status"] == "released"
    assert reload(product).stock == 10


def test_release_of_sold_stock_returns_it_once_for_a_cancelled_order(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-9", (product, 3))
    commit(service_api, "order-9")

    release(service_api, "order-9")
    release(service_api, "order-9")

    assert reload(product).stock == 10
    assert StockMovement.objects.filter(kind="release_sold").count() == 1


def test_commit_with_the_reservation_sells_in_one_call(service_api, make_product):
    product = make_product(price="9.50", stock=10)

    response = reserve(service_api, "order-11", (product, 3), commit=True)

    assert response.status_code == 201
    assert response.json()["status"] == "committed"
    assert reload(product).stock == 7
    moves = StockMovement.objects.filter(reservation__reference="order-11")
    assert sorted(moves.values_list("kind", "quantity")) == [("commit", 3), ("reserve", 3)]
    # Replays and a later commit change nothing; a release returns the sold stock once.
    assert reserve(service_api, "order-11", (product, 3), commit=True).json() == response.json()
    assert commit(service_api, "order-11").json()["status"] == "committed"
    release(service_api, "order-11")
    release(service_api, "order-11")
    assert reload(product).stock == 10
    assert StockMovement.objects.filter(kind="release_sold").count() == 1


def test_commit_with_a_reservation_after_its_release_is_refused(service_api, make_product):
    product = make_product(stock=10)
    release(service_api, "order-12")

    late = reserve(service_api, "order-12", (product, 2), commit=True)

    assert late.status_code == 409
    assert reload(product).stock == 10


def test_commit_with_a_replay_sells_what_was_only_held(service_api, make_product):
    product = make_product(stock=10)
    held = reserve(service_api, "order-13", (product, 4))

    sold = reserve(service_api, "order-13", (product, 4), commit=True)

    assert (held.json()["status"], sold.status_code) == ("reserved", 201)
    assert sold.json() == {**held.json(), "status": "committed"}
    assert reload(product).stock == 6  # taken once
    moves = StockMovement.objects.filter(reservation__reference="order-13")
    assert sorted(moves.values_list("kind", "quantity")) == [("commit", 4), ("reserve", 4)]


def test_commit_with_a_replay_of_a_released_reservation_is_refused(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-14", (product, 4))
    release(service_api, "order-14")

    late = reserve(service_api, "order-14", (product, 4), commit=True)

    assert late.status_code == 409
    assert late.json()["error"]["code"] == "conflict"
    assert reload(product).stock == 10
    assert not StockMovement.objects.filter(kind="commit").exists()


def test_a_release_before_its_reservation_makes_the_reservation_fail(service_api, make_product):
    product = make_product(stock=10)

    early = release(service_api, "order-10")
    late = reserve(service_api, "order-10", (product, 2))

    assert early.status_code == 200
    assert early.json() == {"reference": "order-10", "status": "released", "items": []}
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "conflict"
    assert reload(product).stock == 10


def test_a_released_reservation_cannot_be_committed(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-11", (product, 2))
    release(service_api, "order-11")

    response = commit(service_api, "order-11")

    assert response.status_code == 409
    assert reload(product).stock == 10


def test_committing_an_unknown_reservation_is_404(service_api):
    assert commit(service_api, "never-made").status_code == 404


def test_a_replay_after_release_does_not_take_stock_again(service_api, make_product):
    product = make_product(stock=10)
    reserve(service_api, "order-12", (product, 2))
    release(service_api, "order-12")

    replay = reserve(service_api, "order-12", (product, 2))

    assert replay.json()["status"] == "released"
    assert reload(product).stock == 10


def test_duplicate_lines_are_merged(service_api, make_product):
    product = make_product(stock=10)

    response = reserve(service_api, "order-13", (product, 2), (product, 3))

    assert response.json()["items"][0]["quantity"] == 5
    assert reload(product).stock == 5


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reference": "r1", "items": []},
        {"reference": "r1", "items": [{"product_id": 1, "quantity": 0}]},
        {"reference": "r1", "items": [{"product_id": "x", "quantity": 1}]},
        {"reference": "bad reference", "items": [{"product_id": 1, "quantity": 1}]},
        {"reference": "r" * 65, "items": [{"product_id": 1, "quantity": 1}]},
    ],
)
def test_malformed_requests_are_validation_errors(service_api, body):
    response = service_api.post("/internal/reservations/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_reservations_need_the_stock_reserve_scope(
    api, user_api, staff_api, token_factory, make_product
):
    product = make_product(stock=10)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_factory.service(scopes=['users:read'])}")

    assert reserve(api, "r-1", (product, 1)).status_code == 403
    assert reserve(user_api, "r-2", (product, 1)).status_code == 403
    assert reserve(staff_api, "r-3", (product, 1)).status_code == 403
    assert release(user_api, "r-4").status_code == 403
    assert commit(user_api, "r-5").status_code == 403
    assert not Reservation.objects.exists()
    assert reload(product).stock == 10


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_forged_service_tokens_are_refused(api, token_factory, make_product, kind):
    product = make_product(stock=10)
    forged = token_factory.forged(kind, token_type="service", sub="orders", scope="stock:reserve")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    response = reserve(api, "r-forged", (product, 1))

    assert response.status_code == 401
    assert reload(product).stock == 10


def test_money_is_exact_with_its_two_decimal_places(service_api, make_product):
    product = make_product(price="0.10", stock=10)

    response = reserve(service_api, "order-14", (product, 3))

    unit_price = response.json()["items"][0]["unit_price"]
    assert unit_price == "0.10"
    assert Decimal(unit_price) * 3 == Decimal("0.30")


def test_the_same_claims_genuinely_signed_are_accepted(api, token_factory, make_product):
    product = make_product(stock=10)
    claims = token_factory.claims(
        "service", user_id=1, username="mallory", is_staff=True, sub="orders", scope="stock:reserve"
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_factory.encode(claims)}")

    assert reserve(api, "r-genuine", (product, 1)).status_code == 201


def test_the_hand_built_answer_matches_the_documented_serializer(service_api, make_product):
    product = make_product("Sencha", price="9.50", stock=10)
    answer = reserve(service_api, "order-doc", (product, 2)).json()

    reservation = Reservation.objects.prefetch_related("lines").get(reference="order-doc")
    assert answer == ReservationCreateApi.OutputSerializer(reservation).data


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_deeply_nested_json_is_a_400_not_a_crash(service_api, body):
    response = service_api.post("/internal/reservations/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Reservation.objects.exists()
