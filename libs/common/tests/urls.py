"""Views that raise each kind of error, to check what a client sees."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import (
    AuthenticationFailed,
    NotAuthenticated,
    PermissionDenied,
    Throttled,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souk_common.apis import OperationsApi
from souk_common.errors import (
    ApplicationError,
    Conflict,
    ErrorCode,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from souk_common.errors import NotAuthenticated as CredentialsRefused
from souk_common.permissions import HasScope, IsStaff, IsUser
from souk_common.urls import HANDLER400, HANDLER403, HANDLER404, HANDLER500, service_urlpatterns

handler400 = HANDLER400
handler403 = HANDLER403
handler404 = HANDLER404
handler500 = HANDLER500


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    quantity = serializers.IntegerField(min_value=1)


class ValidateApi(APIView):
    def post(self, request: Request) -> Response:
        serializer = ItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ChallengeAuthentication(BaseAuthentication):
    """Authenticates nobody, but says how to (so DRF answers 401, not 403)."""

    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class RaiseApi(APIView):
    """Raises the exception named in the URL."""

    authentication_classes = [ChallengeAuthentication]

    errors = {
        "not-authenticated": NotAuthenticated,
        "authentication-failed": AuthenticationFailed,
        "permission-denied": PermissionDenied,
        "conflict": lambda: Conflict("Already there.", details={"id": 1}),
        "unavailable": lambda: UpstreamUnavailable(retry_after=2.5),
        "timeout": UpstreamTimeout,
        "throttled": lambda: Throttled(wait=3.2),
        "crash": lambda: RuntimeError("secret internals"),
        "out-of-stock": lambda: ShelfEmpty(details={"lines": [{"product_id": 3}]}),
        "credentials-refused": CredentialsRefused,
    }

    def get(self, request: Request, kind: str) -> Response:
        raise self.errors[kind]()


class ShelfEmpty(ApplicationError):
    """A domain error of a made-up service: it names a code, never a status."""

    code = ErrorCode.OUT_OF_STOCK
    default_message = "The shelf is empty."


class WhoAmIApi(APIView):
    permission_classes = [IsUser]

    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"user_id": user.user_id, "username": user.username})


class StaffOnlyApi(APIView):
    permission_classes = [IsStaff]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ReserveApi(APIView):
    permission_classes = [HasScope("stock:reserve")]

    def post(self, request: Request) -> Response:
        return Response({"client_id": request.user.client_id})


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals")


class ShelfListApi(APIView):
    """Anyone lists."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        shelves = serializers.IntegerField()

    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer({"shelves": 3}).data)


class ShelfAddApi(APIView):
    """Users add."""

    permission_classes = [IsUser]

    class OutputSerializer(serializers.Serializer):
        added = serializers.BooleanField()

    def post(self, request: Request) -> Response:
        return Response(self.OutputSerializer({"added": True}).data, status=201)


class ShelvesApi(OperationsApi, ShelfListApi, ShelfAddApi):  # type: ignore[misc]
    operations = {"GET": ShelfListApi, "POST": ShelfAddApi}


class ShelfCatalogueApi(APIView):
    """Anyone reads every shelf: an answer large enough to be worth compressing."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        count = int(request.query_params.get("count", "200"))
        return Response({"results": [{"shelf": n, "label": f"Shelf {n}"} for n in range(count)]})


urlpatterns = [
    *service_urlpatterns(),
    path("shelf-catalogue/", ShelfCatalogueApi.as_view()),
    path("validate/", ValidateApi.as_view()),
    path("raise/<str:kind>/", RaiseApi.as_view()),
    path("crash/", crash),
    path("whoami/", WhoAmIApi.as_view()),
    path("staff-only/", StaffOnlyApi.as_view()),
    path("reserve/", ReserveApi.as_view()),
    path("shelves/", ShelvesApi.as_view()),
]
