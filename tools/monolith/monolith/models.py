"""What order placement touches, in one database: accounts, products, orders."""

import uuid

from django.db import models


class Account(models.Model):
    id = models.BigIntegerField(primary_key=True)
    username = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.username


class Product(models.Model):
    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField()
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user_id = models.BigIntegerField(db_index=True)
    status = models.CharField(max_length=16, default="confirmed")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.id)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"
