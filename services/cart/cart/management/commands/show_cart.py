"""Show staff one cart, wherever carts live (Redis has no admin): ``show_cart <id>``."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.utils.encoders import JSONEncoder

from cart.selectors import CartNotFound, CartView, cart_priced, cart_state
from cart.serializers import CartOutputSerializer
from cart.stores import CartRef, CartState
from souk_common.errors import UpstreamError


class Command(BaseCommand):
    help = (
        "Print a cart: a guest's by its id, a user's as user:<id>. Names and prices are "
        "asked of the products service; without it, the quantities alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "cart", help="a guest cart's id (after -- when it starts with -), or user:<id>"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print it as the API answers"
        )

    def handle(self, *args: Any, cart: str, as_json: bool, **options: Any) -> None:
        try:
            state = cart_state(ref=_ref(cart))
        except CartNotFound:
            raise CommandError(f"No cart {cart!r}: it does not exist or has expired.") from None
        try:
            view = cart_priced(state=state)
        except UpstreamError as exc:
            self.stderr.write(f"Not priced ({exc.message}); the quantities alone:")
            self._write_quantities(state)
            return
        if as_json:
            self.stdout.write(_json(CartOutputSerializer(view).data))
        else:
            self._write(view)

    def _write(self, view: CartView) -> None:
        expires = view.expires_at.isoformat() if view.expires_at else "never changed"
        self.stdout.write(f"cart {view.id}, expires {expires}")
        for line in view.items:
            if line.available:
                self.stdout.write(
                    f"  product {line.product_id}: {line.name}, "
                    f"{line.quantity} x {line.unit_price} = {line.line_total}"
                )
            else:
                self.stdout.write(
                    f"  product {line.product_id}: NOT ON SALE (unknown or retired), "
                    f"{line.quantity}"
                )
        self.stdout.write(f"{view.item_count} item(s), subtotal {view.subtotal}")

    def _write_quantities(self, state: CartState) -> None:
        self.stdout.write(f"cart {state.ref.public_id}, expires {state.expires_at}")
        for product_id, quantity in state.lines.items():
            self.stdout.write(f"  product {product_id}: {quantity}")


def _ref(name: str) -> CartRef:
    if name.startswith("user:"):
        try:
            return CartRef.user(int(name.removeprefix("user:")))
        except ValueError:
            raise CommandError(f"{name!r}: a user's cart is user:<id>, e.g. user:42.") from None
    return CartRef.guest(name)


def _json(data: Any) -> str:
    return json.dumps(data, cls=JSONEncoder, indent=2)
