"""Routes of the accounts app: the public API, the JWK Set, and the internal API."""

from django.urls import URLPattern, path
from django.views.decorators.http import require_safe

from accounts import apis

urlpatterns: list[URLPattern] = [
    path("api/users/", apis.UserListCreateApi.as_view(), name="user-list"),
    path("api/users/me/", apis.MeApi.as_view(), name="user-me"),
    path("api/users/<int:user_id>/", apis.UserDetailApi.as_view(), name="user-detail"),
    path("api/auth/token/", apis.TokenObtainApi.as_view(), name="token-obtain"),
    path("api/auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("api/auth/logout/", apis.LogoutApi.as_view(), name="logout"),
    path("api/auth/password-reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "api/auth/password-reset/confirm/",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("api/auth/verify-email/", apis.EmailVerifyApi.as_view(), name="verify-email"),
    path("api/auth/jwks.json", require_safe(apis.jwks_view), name="jwks"),
    path("internal/auth/token/", apis.ServiceTokenApi.as_view(), name="service-token"),
    path(
        "internal/users/<int:user_id>/",
        apis.InternalUserDetailApi.as_view(),
        name="internal-user-detail",
    ),
    path(
        "internal/users/<int:user_id>/contact/",
        apis.InternalUserContactApi.as_view(),
        name="internal-user-contact",
    ),
]
