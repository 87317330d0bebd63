"""Views of the cart service, one per operation: parse, call one service or selector,
serialize. Each nests the serializer of its own input; the cart they answer with is the
one shape every view shows (cart.serializers).

Whose cart: a signed-in user's own, found from the token (an ``X-Cart-ID`` header is
then ignored); otherwise the guest cart the ``X-Cart-ID`` header names. A request with
neither is refused (400, naming the header); an id that names no live cart, whatever it
looks like, is 404. Internal views (``/internal/``) serve the orders service, which holds
the ``cart:checkout`` scope, and name the user in the path.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import selectors, services
from cart.selectors import CartNotFound, CartView
from cart.serializers import CartOutputSerializer, StrictIntegerField
from cart.stores import MAX_QUANTITY, CartRef
from souk_common.apis import OperationsApi
from souk_common.auth import request_principal
from souk_common.permissions import HasScope, IsUser
from souk_common.tokens import Principal

CART_ID_HEADER = OpenApiParameter(
    "X-Cart-ID",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A guest's cart id, from POST /api/cart/. Signed in: not needed, and ignored.",
)


def _answer(cart: CartView, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(cart).data, status=status_code)


def _guest_id(value: str) -> str:
    if not services.GUEST_ID.fullmatch(value):
        raise CartNotFound()
    return value


def _signed_in_user(request: Request) -> int | None:
    user = request.user
    return user.user_id if isinstance(user, Principal) else None


def cart_ref(request: Request) -> CartRef:
    """The caller's cart: a signed-in user's own, else the guest cart X-Cart-ID names."""
    user_id = _signed_in_user(request)
    if user_id is not None:
        return CartRef.user(user_id)
    cart_id = request.headers.get("X-Cart-ID")
    if cart_id is None:
        raise ValidationError(
            {
                "X-Cart-ID": [
                    "Name your cart in this header (POST /api/cart/ makes one), or sign in."
                ]
            }
        )
    return CartRef.guest(_guest_id(cart_id))


class CartCreateApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=None,
        responses={
            status.HTTP_201_CREATED: CartOutputSerializer,
            status.HTTP_200_OK: CartOutputSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        """Make a guest cart (201); its ``id`` is its only key, for X-Cart-ID.

        Signed in: you already have your cart, found from the token; it is answered (200).
        """
        user_id = _signed_in_user(request)
        if user_id is not None:
            return _answer(selectors.cart_get(ref=CartRef.user(user_id)))
        return _answer(services.cart_create(), status.HTTP_201_CREATED)


class CartDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[CART_ID_HEADER], responses=CartOutputSerializer)
    def get(self, request: Request) -> Response:
        """Your cart, with names and prices current from the catalogue."""
        return _answer(selectors.cart_get(ref=cart_ref(request)))


class CartClearApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[CART_ID_HEADER], request=None, responses=CartOutputSerializer)
    def delete(self, request: Request) -> Response:
        """Empty your cart; a guest cart stays, empty, under its id."""
        return _answer(services.cart_clear(ref=cart_ref(request)))


class CartApi(OperationsApi, CartDetailApi, CartCreateApi, CartClearApi):
    """``/api/cart/``: Django routes by path alone, so this one view is the three
    operations (each still its own view)."""

    operations = {"GET": CartDetailApi, "POST": CartCreateApi, "DELETE": CartClearApi}


class CartLineSetApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="CartLineInput")
    class InputSerializer(serializers.Serializer):
        quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)

    @extend_schema(
        parameters=[CART_ID_HEADER], request=InputSerializer, responses=CartOutputSerializer
    )
    def put(self, request: Request, product_id: int) -> Response:
        """Set how many of a product your cart holds (1-1000; at most 50 products).

        A product that does not exist or is retired is refused (400 naming it).
        """
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_line_set(
            ref=cart_ref(request),
            product_id=product_id,
            quantity=serializer.validated_data["quantity"],
        )
        return _answer(cart)


class CartLineRemoveApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[CART_ID_HEADER], request=None, responses=CartOutputSerializer)
    def delete(self, request: Request, product_id: int) -> Response:
        """Take a product out of your cart (not in it: the cart as it is)."""
        return _answer(services.cart_line_remove(ref=cart_ref(request), product_id=product_id))


class CartLineApi(OperationsApi, CartLineSetApi, CartLineRemoveApi):
    """``/api/cart/items/{product_id}/``: set a line (PUT) or remove it (DELETE)."""

    operations = {"PUT": CartLineSetApi, "DELETE": CartLineRemoveApi}


@extend_schema_serializer(component_name="CartMergeInput")
class MergeInputSerializer(serializers.Serializer):
    cart_id = serializers.CharField(max_length=64, help_text="The guest cart's id.")


class CartMergeApi(APIView):
    permission_classes = [IsUser]

    @extend_schema(request=MergeInputSerializer, responses=CartOutputSerializer)
    def post(self, request: Request) -> Response:
        """Add a guest cart's lines to yours (quantities summed, at most 1000 of one
        product), then delete the guest cart. Unknown or expired: 404; your cart would
        hold more than 50 products: 400, and nothing changes."""
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_id = request_principal(request).user_id
        assert user_id is not None  # IsUser lets only users in
        cart = services.cart_merge(
            user_id=user_id, guest_id=_guest_id(serializer.validated_data["cart_id"])
        )
        return _answer(cart)


# Internal: for the orders service's checkout ------------------------------------------


class InternalApi(APIView):
    permission_classes = [HasScope("cart:checkout")]


class UserCartDetailApi(InternalApi):
    @extend_schema(responses=CartOutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        """The user's cart, as they see it (empty if they have none)."""
        return _answer(selectors.cart_get(ref=CartRef.user(user_id)))


class UserCartClearApi(InternalApi):
    @extend_schema(request=None, responses={status.HTTP_204_NO_CONTENT: None})
    def delete(self, request: Request, user_id: int) -> Response:
        """Empty the user's cart (an order was placed from it); again: 204 again."""
        services.cart_clear(ref=CartRef.user(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserCartApi(OperationsApi, UserCartDetailApi, UserCartClearApi):
    """``/internal/carts/users/{user_id}/``: read (GET) or empty (DELETE) a user's cart."""

    operations = {"GET": UserCartDetailApi, "DELETE": UserCartClearApi}


class UserCartMergeApi(InternalApi):
    @extend_schema(request=MergeInputSerializer, responses=CartOutputSerializer)
    def post(self, request: Request, user_id: int) -> Response:
        """Merge a guest cart into the user's, as the user would (POST /api/cart/merge/)."""
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_merge(
            user_id=user_id, guest_id=_guest_id(serializer.validated_data["cart_id"])
        )
        return _answer(cart)
