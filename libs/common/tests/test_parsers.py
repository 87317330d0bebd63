"""Request bodies: JSON nested too deeply is a 400 in the envelope, never a RecursionError."""

import pytest
from django.test import Client

from souk_common.parsers import nests_deeper_than

DEEP_BODIES = {
    "100,000 nested arrays": "[" * 100_000,
    "5,000 nested objects": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "closed but nested 500 deep": "[" * 500 + "]" * 500,
    "one level over the limit": '{"name":' + "[" * 32 + "]" * 32 + "}",
}


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_a_validation_error(body):
    response = Client(raise_request_exception=False).post(
        "/validate/", body, content_type="application/json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "nest deeper than 32 levels" in error["message"]


def test_json_as_deep_as_the_limit_reaches_the_view():
    body = '{"name": "tea", "quantity": 1, "extra":' + "[" * 31 + "]" * 31 + "}"

    response = Client().post("/validate/", body, content_type="application/json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "limit", "deeper"),
    [(1, 0, False), ([], 0, True), ([], 1, False), ({"a": [{}]}, 2, True), ({"a": [{}]}, 3, False)],
)
def test_nesting_depth_counts_arrays_and_objects(value, limit, deeper):
    assert nests_deeper_than(value, limit) is deeper
