"""Reads of the shipping app: ``<entity>_<what>(*, ...)``, returning models or querysets;
what the caller may not see is not found (``souk_common.errors.NotFound``)."""

from django.db.models import QuerySet

from shipping.models import Example
from souk_common.errors import NotFound


def example_list(*, user_id: int) -> QuerySet[Example]:
    """A user's examples, newest first."""
    return Example.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def example_get(*, example_id: int, user_id: int) -> Example:
    """One of a user's examples; another user's is not found, like one that does not exist."""
    example = example_list(user_id=user_id).filter(pk=example_id).first()
    if example is None:
        raise NotFound()
    return example
