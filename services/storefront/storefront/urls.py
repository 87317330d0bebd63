"""The storefront's pages."""

from django.urls import URLPattern, path

from storefront import views

urlpatterns: list[URLPattern] = [
    path("", views.catalogue, name="catalogue"),
    path("products/<int:product_id>/", views.product, name="product"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/items/<int:product_id>/", views.cart_line, name="cart-line"),
    path("signin/", views.sign_in, name="sign-in"),
    path("signup/", views.sign_up, name="sign-up"),
    path("signout/", views.sign_out, name="sign-out"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/confirm/", views.password_reset_confirm, name="password-reset-confirm"),
    path("verify-email/", views.verify_email, name="verify-email"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/quote/", views.checkout_quote, name="checkout-quote"),
    path("orders/", views.orders, name="orders"),
    path("orders/<uuid:order_id>/", views.order, name="order"),
    path("orders/<uuid:order_id>/status/", views.order_status, name="order-status"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<uuid:order_id>/refill-cart/", views.order_refill_cart, name="order-refill-cart"),
]
