"""Writes of the cart app: ``<entity>_<action>(*, ...)``, keyword-only and typed.

They speak the domain: a refusal is a domain error (a ``souk_common.errors`` class with a
stable code), never an HTTP answer; a transaction is opened here, around exactly the work
that must be atomic.
"""

from django.db import IntegrityError, transaction

from cart.models import Example
from souk_common.errors import InvalidInput


class ExampleNameTaken(InvalidInput):
    """The user already has an example of this name; ``details`` names the field."""

    def __init__(self) -> None:
        super().__init__(details={"name": ["You already have an example with this name."]})


def example_create(*, user_id: int, name: str) -> Example:
    """Make an example for ``user_id``; a name they already use is refused."""
    try:
        # A savepoint: the refused insert leaves the caller's transaction usable.
        with transaction.atomic():
            return Example.objects.create(user_id=user_id, name=name)
    except IntegrityError:
        raise ExampleNameTaken() from None
