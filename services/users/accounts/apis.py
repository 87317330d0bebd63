"""Views of the users service: parse the input with the view's own serializers, call one
service or selector, serialize its result.

One view per URL of the contract; where a URL has two operations (``GET`` and ``POST`` on
``/api/users/``), each is one method of the view, with the serializers it names. Nested
serializers name their component of the OpenAPI schema (``Meta.ref_name``): a schema's
names are part of what it publishes.
"""

from typing import cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services, tokens
from accounts.authentication import UserJWTAuthentication
from accounts.models import User
from accounts.throttles import (
    LinkTokenAddressThrottle,
    LoginAddressThrottle,
    LoginUsernameThrottle,
    PasswordResetAddressThrottle,
    PasswordResetEmailThrottle,
    ServiceTokenThrottle,
)
from souk_common.apis import OperationsApi
from souk_common.pagination import PageNumberPagination, paginated_response
from souk_common.permissions import HasScope, IsStaff, IsUser


def signed_in_user(request: Request) -> User:
    """The account of a request that ``IsUser`` let through: UserJWTAuthentication makes
    ``request.user`` a live ``User`` for every user token."""
    return cast(User, request.user)


class MeApi(APIView):
    """The signed-in user's own account."""

    permission_classes = [IsUser]

    class InputSerializer(serializers.Serializer):
        """What a user may change about themselves; anything else sent is ignored."""

        email = serializers.EmailField(max_length=254, required=False)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

        class Meta:
            ref_name = "MeUpdateInput"

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = [
                "id",
                "username",
                "email",
                "first_name",
                "last_name",
                "is_staff",
                "date_joined",
                "email_verified",
            ]
            ref_name = "MeOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(signed_in_user(request)).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(
            user=signed_in_user(request), data=serializer.validated_data
        )
        return Response(self.OutputSerializer(user).data)


class UserDetailApi(APIView):
    """Staff: one account, and its ``is_active`` / ``is_staff`` flags."""

    permission_classes = [IsStaff]

    class InputSerializer(serializers.Serializer):
        is_active = serializers.BooleanField(required=False)
        is_staff = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "StaffUserUpdateInput"

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = [
                "id",
                "username",
                "email",
                "first_name",
                "last_name",
                "is_staff",
                "is_active",
                "date_joined",
                "last_login",
            ]
            ref_name = "StaffUserOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = selectors.user_get(user_id=user_id)
        return Response(self.OutputSerializer(user).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request: Request, user_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_status(
            user=selectors.user_get(user_id=user_id),
            is_active=serializer.validated_data.get("is_active"),
            is_staff=serializer.validated_data.get("is_staff"),
        )
        return Response(self.OutputSerializer(user).data)


class UserListApi(APIView):
    """Staff list every account."""

    permission_classes = [IsStaff]
    pagination_class = PageNumberPagination
    # A page of accounts, each as staff see one.
    OutputSerializer = UserDetailApi.OutputSerializer

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            items=selectors.user_list(),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class UserRegisterApi(APIView):
    """Anyone registers."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

        class Meta:
            ref_name = "UserRegisterInput"

    class OutputSerializer(serializers.ModelSerializer):  # the account just registered
        class Meta:
            model = User
            fields = ["id", "username", "email", "date_joined"]
            ref_name = "UserOutput"

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


# Each operation keeps its own OutputSerializer: requests go to the operation's own view.
class UserListCreateApi(OperationsApi, UserListApi, UserRegisterApi):  # type: ignore[misc]
    """``POST``: anyone registers. ``GET``: staff list every account."""

    operations = {"GET": UserListApi, "POST": UserRegisterApi}


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

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

        class Meta:
            ref_name = "TokenObtainInput"

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()

        class Meta:
            ref_name = "TokenPairOutput"

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_login(request=request._request, **serializer.validated_data)
        return Response(self.OutputSerializer(pair).data)


class TokenRefreshApi(CredentialsApi):
    """Trade a refresh token for a new pair (rotation: the old one dies)."""

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField(max_length=4096)

        class Meta:
            ref_name = "RefreshInput"

    OutputSerializer = TokenObtainApi.OutputSerializer

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_refresh(refresh=serializer.validated_data["refresh"])
        return Response(self.OutputSerializer(pair).data)


class LogoutApi(CredentialsApi):
    """Kill a refresh token."""

    InputSerializer = TokenRefreshApi.InputSerializer

    @extend_schema(request=InputSerializer, responses={status.HTTP_204_NO_CONTENT: None})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


#: What a password-reset request is answered, whether or not the address has an account.
RESET_LINK_ON_ITS_WAY = (
    "If an active account has this e-mail address, a link to reset its password is on its way."
)


class PasswordResetApi(CredentialsApi):
    """Ask for a password-reset link: 202 and the same body whether or not an account has
    the address, throttled per client address and per address asked about."""

    throttle_classes = [PasswordResetAddressThrottle, PasswordResetEmailThrottle]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)

        class Meta:
            ref_name = "PasswordResetInput"

    class OutputSerializer(serializers.Serializer):
        detail = serializers.CharField()

        class Meta:
            ref_name = "PasswordResetAcceptedOutput"

    @extend_schema(request=InputSerializer, responses={status.HTTP_202_ACCEPTED: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": RESET_LINK_ON_ITS_WAY}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(CredentialsApi):
    """Set a new password with the token of a reset link; every refresh token is revoked."""

    throttle_classes = [LinkTokenAddressThrottle]

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=256)
        new_password = serializers.CharField(max_length=128, trim_whitespace=False)

        class Meta:
            ref_name = "PasswordResetConfirmInput"

    @extend_schema(request=InputSerializer, responses={status.HTTP_204_NO_CONTENT: None})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyApi(CredentialsApi):
    """Verify an account's e-mail address with the token of the link mailed to it."""

    throttle_classes = [LinkTokenAddressThrottle]

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=256)

        class Meta:
            ref_name = "EmailVerifyInput"

    @extend_schema(request=InputSerializer, responses={status.HTTP_204_NO_CONTENT: None})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_verify(token=serializer.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def jwks_view(request: HttpRequest) -> HttpResponse:
    """The public signing keys as a JWK Set (plain Django view: cheap and cacheable)."""
    response = JsonResponse(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


class ServiceTokenApi(CredentialsApi):
    """Internal: a service trades its client id and secret for a scoped token."""

    throttle_classes = [ServiceTokenThrottle]

    class InputSerializer(serializers.Serializer):
        client_id = serializers.CharField(max_length=64)
        client_secret = serializers.CharField(max_length=256, trim_whitespace=False)

        class Meta:
            ref_name = "ServiceTokenInput"

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        token_type = serializers.CharField()
        expires_in = serializers.IntegerField()
        scope = serializers.CharField()

        class Meta:
            ref_name = "ServiceTokenOutput"

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.service_token_issue(**serializer.validated_data)
        return Response(self.OutputSerializer(token).data)


class InternalUserDetailApi(APIView):
    """Internal: whether an account exists, is active and is staff (``users:read``); never
    its e-mail address, which only ``users:contact`` reads (InternalUserContactApi)."""

    permission_classes = [HasScope("users:read")]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = ["id", "username", "is_active", "is_staff"]
            ref_name = "InternalUserOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        account = selectors.user_status(user_id=user_id)
        return Response(self.OutputSerializer(account).data)


class InternalUserContactApi(APIView):
    """Internal: where to write to an account, its name and current e-mail address, which
    events never carry (``users:contact``, held by the service that mails the customer)."""

    permission_classes = [HasScope("users:contact")]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = ["id", "username", "email"]
            ref_name = "InternalUserContactOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        contact = selectors.user_contact(user_id=user_id)
        return Response(self.OutputSerializer(contact).data)
