"""Order placement in one view: check the token and the account, validate the lines,
take the stock and record the order, in one transaction on one database.

What Souk's ``POST /api/orders/`` does across the gateway, orders and products (and
users, for the account), without the network between them: the baseline of the
microservice tax (docs/benchmarks.md, "The microservice tax").
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import jwt
from django.conf import settings
from django.db import connection, transaction
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.models import Account, Order, OrderLine


@functools.lru_cache(maxsize=10_000)
def _claims(token: str) -> dict[str, Any] | None:
    """A token's claims once its signature, expiry and audience check out (each token is
    checked once, as Souk's services do)."""
    try:
        return jwt.decode(
            token,
            settings.JWT_PUBLIC_KEY,
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["exp", "user_id"]},
        )
    except jwt.PyJWTError:
        return None


def _error(code: str, message: str, http_status: int, **details: Any) -> Response:
    return Response(
        {"error": {"code": code, "message": message, "details": details}}, status=http_status
    )


class OrderPlaceApi(APIView):
    class LineSerializer(serializers.Serializer):
        product_id = serializers.IntegerField(min_value=1)
        quantity = serializers.IntegerField(min_value=1, max_value=1000)

    class InputSerializer(serializers.Serializer):
        items = serializers.ListField(min_length=1, max_length=50)

        def validate_items(self, items: list[Any]) -> list[dict[str, int]]:
            lines = OrderPlaceApi.LineSerializer(data=items, many=True)
            lines.is_valid(raise_exception=True)
            ids = [line["product_id"] for line in lines.validated_data]
            if len(set(ids)) != len(ids):
                raise serializers.ValidationError("Each product once.")
            return list(lines.validated_data)

    def post(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = _claims(token) if scheme == "Bearer" else None
        if claims is None:
            return _error("not_authenticated", "A valid token is required.", 401)
        user_id = int(claims["user_id"])
        if not Account.objects.filter(pk=user_id, is_active=True).exists():
            return _error("not_authenticated", "The account is not active.", 401)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return _error("validation_error", "Invalid input.", 400, **data.errors)
        lines = sorted(data.validated_data["items"], key=lambda line: line["product_id"])
        with transaction.atomic():
            taken = []
            with connection.cursor() as cursor:
                for line in lines:  # in id order: two orders never wait on each other's rows
                    cursor.execute(
                        "UPDATE monolith_product SET stock = stock - %s "
                        "WHERE id = %s AND is_active AND stock >= %s RETURNING name, price",
                        [line["quantity"], line["product_id"], line["quantity"]],
                    )
                    row = cursor.fetchone()
                    if row is None:
                        transaction.set_rollback(True)
                        return _error(
                            "out_of_stock", "Not enough stock.", 409, product_id=line["product_id"]
                        )
                    taken.append((line, row[0], row[1]))
            total = sum((Decimal(price) * line["quantity"] for line, _, price in taken), Decimal(0))
            order = Order.objects.create(user_id=user_id, total=total)
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    product_id=line["product_id"],
                    quantity=line["quantity"],
                    name=name,
                    unit_price=price,
                )
                for line, name, price in taken
            )
        body = {
            "id": str(order.id),
            "user_id": order.user_id,
            "status": order.status,
            "total": str(order.total),
            "items": [
                {
                    "product_id": line["product_id"],
                    "name": name,
                    "unit_price": str(price),
                    "quantity": line["quantity"],
                }
                for line, name, price in taken
            ],
            "created_at": order.created_at.isoformat(),
        }
        return Response(body, status=status.HTTP_201_CREATED)
