"""Views of the users service: parse, call one service or selector, serialize."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services, tokens
from accounts.authentication import UserJWTAuthentication
from accounts.models import User
from accounts.serializers import (
    InternalUserOutputSerializer,
    MeOutputSerializer,
    MeUpdateInputSerializer,
    RefreshInputSerializer,
    ServiceTokenInputSerializer,
    ServiceTokenOutputSerializer,
    StaffUserOutputSerializer,
    StaffUserUpdateInputSerializer,
    TokenObtainInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
    UserRegisterInputSerializer,
)
from accounts.throttles import LoginAddressThrottle, LoginUsernameThrottle, ServiceTokenThrottle
from souk_common.permissions import HasScope, IsStaff, IsUser


def _valid(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class UserListCreateApi(ListAPIView):
    """``POST``: anyone registers. ``GET``: staff list every account."""

    serializer_class = StaffUserOutputSerializer

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method == "POST" else [IsStaff()]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list()

    @extend_schema(request=UserRegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(UserRegisterInputSerializer, request.data)
        user = services.user_register(**data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    """The signed-in user's own account."""

    permission_classes = [IsUser]

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeUpdateInputSerializer, responses=MeOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = _valid(MeUpdateInputSerializer, request.data)
        user = services.user_update_profile(user=request.user, data=data)  # type: ignore[arg-type]
        return Response(MeOutputSerializer(user).data)


class UserDetailApi(APIView):
    """Staff: one account, and its ``is_active`` / ``is_staff`` flags."""

    permission_classes = [IsStaff]

    @extend_schema(responses=StaffUserOutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = selectors.user_get(user_id=user_id)
        return Response(StaffUserOutputSerializer(user).data)

    @extend_schema(request=StaffUserUpdateInputSerializer, responses=StaffUserOutputSerializer)
    def patch(self, request: Request, user_id: int) -> Response:
        data = _valid(StaffUserUpdateInputSerializer, request.data)
        user = services.user_update_status(
            user=selectors.user_get(user_id=user_id),
            is_active=data.get("is_active"),
            is_staff=data.get("is_staff"),
        )
        return Response(StaffUserOutputSerializer(user).data)


class CredentialsApi(APIView):
    """Base of the views that take credentials in the body instead of a bearer token.

    A refusal is still a 401 with a ``WWW-Authenticate`` challenge (DRF answers
    403 when a view has no authenticator to take the challenge from).
    """

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{UserJWTAuthentication.realm}"'


class TokenObtainApi(CredentialsApi):
    """Sign in: username and password for an access and a refresh token."""

    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    @extend_schema(request=TokenObtainInputSerializer, responses=TokenPairOutputSerializer)
    def post(self, request: Request) -> Response:
        data = _valid(TokenObtainInputSerializer, request.data)
        pair = services.auth_login(request=request._request, **data)
        return Response(TokenPairOutputSerializer(pair).data)


class TokenRefreshApi(CredentialsApi):
    """Trade a refresh token for a new pair (rotation: the old one dies)."""

    @extend_schema(request=RefreshInputSerializer, responses=TokenPairOutputSerializer)
    def post(self, request: Request) -> Response:
        data = _valid(RefreshInputSerializer, request.data)
        pair = services.auth_refresh(refresh=data["refresh"])
        return Response(TokenPairOutputSerializer(pair).data)


class LogoutApi(CredentialsApi):
    """Kill a refresh token."""

    @extend_schema(request=RefreshInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = _valid(RefreshInputSerializer, request.data)
        services.auth_logout(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def jwks_view(request: Any) -> HttpResponse:
    """The public signing keys as a JWK Set (plain Django view: cheap and cacheable)."""
    response = JsonResponse(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


class ServiceTokenApi(CredentialsApi):
    """Internal: a service trades its client id and secret for a scoped token."""

    throttle_classes = [ServiceTokenThrottle]

    @extend_schema(request=ServiceTokenInputSerializer, responses=ServiceTokenOutputSerializer)
    def post(self, request: Request) -> Response:
        data = _valid(ServiceTokenInputSerializer, request.data)
        token = services.service_token_issue(**data)
        return Response(ServiceTokenOutputSerializer(token).data)


class InternalUserDetailApi(APIView):
    """Internal: whether an account exists and is active (``users:read``)."""

    permission_classes = [HasScope("users:read")]

    @extend_schema(responses=InternalUserOutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        account = selectors.user_status(user_id=user_id)
        return Response(InternalUserOutputSerializer(account).data)
