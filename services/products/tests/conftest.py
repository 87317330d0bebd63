"""Fixtures of the products service's tests: clients, the users service faked, products."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalogue.models import Category, Product
from catalogue.services import product_create


@pytest.fixture
def api():
    return APIClient()


STAFF_ID = 1


@pytest.fixture
def users(users_service):
    """The users service, faked at the HTTP boundary: user 1 is staff there."""
    users_service.staff.add(STAFF_ID)
    return users_service


@pytest.fixture
def staff_api(token_factory, users):
    client = APIClient()
    token = token_factory.access(user_id=STAFF_ID, is_staff=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def user_api(token_factory):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_factory.access(user_id=5)}")
    return client


@pytest.fixture
def service_api(token_factory):
    """The orders service, holding a token with the stock:reserve scope."""
    client = APIClient()
    token = token_factory.service(client_id="orders", scopes=["stock:reserve"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def tea(db):
    return Category.objects.create(name="Tea", slug="tea")


@pytest.fixture
def coffee(db):
    return Category.objects.create(name="Coffee", slug="coffee")


@pytest.fixture
def make_product(tea):
    counter = iter(range(1, 10_000))

    def make(name=None, price="5.00", stock=10, category=None, **fields):
        number = next(counter)
        return product_create(
            data={
                "sku": fields.pop("sku", f"SKU-{number}"),
                "name": name or f"Product {number}",
                "price": Decimal(price),
                "stock": stock,
                "category": category or tea,
                **fields,
            }
        )

    return make


def reload(product: Product) -> Product:
    product.refresh_from_db()
    return product
