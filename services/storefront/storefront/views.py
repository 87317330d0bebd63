"""The storefront's pages. Each view parses a form, calls one service or selector, and
renders; with htmx (``request.htmx``) some answer only the part of the page that changed.
Every page and form works without JavaScript too."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from storefront import selectors, services
from storefront.clients.gateway import ApiError, Cart
from storefront.forms import (
    ORDERINGS,
    AddToCartForm,
    CatalogueForm,
    CheckoutForm,
    NewPasswordForm,
    PasswordResetForm,
    QuantityForm,
    SignInForm,
    SignUpForm,
    add_api_errors,
)
from storefront.shopper import Shopper
from storefront.templatetags.shop import payment_reason


class HtmxHttpRequest(HttpRequest):
    """A request as HtmxMiddleware leaves it: ``request.htmx`` says whether htmx sent it."""

    htmx: HtmxDetails


def _shopper(request: HttpRequest) -> Shopper:
    return Shopper(request.session)


def on_this_site(request: HttpRequest, target: str | None) -> bool:
    return bool(target) and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    )


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after signing in: ``next`` when it is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if on_this_site(request, target) else default


def _back(request: HttpRequest, default: str) -> str:
    """The page the shopper came from, when it is one of this site's."""
    referer = request.headers.get("Referer")
    return referer if referer and on_this_site(request, referer) else default


def _sign_in_first(request: HttpRequest) -> HttpResponseRedirect:
    messages.info(request, "Please sign in first.")
    return redirect(f"{reverse('sign-in')}?{urlencode({'next': request.get_full_path()})}")


# Catalogue ---------------------------------------------------------------------------


@require_safe
@vary_on_headers("HX-Request", "HX-Target")
def catalogue(request: HtmxHttpRequest) -> HttpResponse:
    form = CatalogueForm(request.GET)
    params = form.api_params()
    query = {
        name: value
        for name, value in request.GET.items()
        if name not in ("page", "cursor") and value
    }
    page = selectors.catalogue_page(params=params)
    if page is None:  # past the last page: the first one
        return redirect(f"{reverse('catalogue')}?{urlencode(query)}")
    context = {
        "form": form,
        "page": page,
        "orderings": ORDERINGS,
        "query": urlencode(query),
        "searching": bool(params.get("search")),
        "add_form": AddToCartForm(),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "storefront/_results.html", context)
    context["categories"] = selectors.category_list()
    return render(request, "storefront/catalogue.html", context)


@require_safe
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    found = selectors.product_get(product_id=product_id)
    if found is None:
        raise Http404("No such product.")
    form = AddToCartForm(initial={"product_id": found.id, "quantity": 1})
    return render(request, "storefront/product.html", {"product": found, "form": form})


# Cart ----------------------------------------------------------------------------------


def _cart_page(request: HtmxHttpRequest, cart: Cart | None, error: str = "") -> HttpResponse:
    template = "storefront/_cart.html" if request.htmx else "storefront/cart.html"
    return render(request, template, {"cart": cart, "error": error})


@require_safe
@vary_on_headers("HX-Request")
def cart(request: HtmxHttpRequest) -> HttpResponse:
    shopper = _shopper(request)
    left_behind = shopper.signed_in and shopper.guest_cart_id  # a merge failed at sign-in
    if left_behind and not services.cart_merge_guest(shopper=shopper).cart_left_behind:
        messages.info(request, "Your guest cart is with your account now.")
    return _cart_page(request, selectors.cart_get(shopper=shopper))


def _say_cart_refusal(request: HttpRequest, error: ApiError) -> str:
    """The cart's refusal in words (also kept as a message for the next page)."""
    if error.code == "validation_error":
        retired = "unavailable_products" in error.details
        said = "That product is no longer on sale." if retired else error.message
    elif error.code == "not_found":
        said = "Your cart has expired; please add the products again."
    else:
        raise error
    messages.error(request, said)
    return said


@require_POST
def cart_add(request: HtmxHttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 1 and 1,000.")
        return redirect(_back(request, reverse("catalogue")))
    product_id, quantity = form.cleaned_data["product_id"], form.cleaned_data["quantity"]
    try:
        added = services.cart_add(
            shopper=_shopper(request), product_id=product_id, quantity=quantity
        )
    except ApiError as error:
        _say_cart_refusal(request, error)
        # htmx would put the cart page in the button's corner: the whole page goes there.
        return HttpResponseClientRedirect(reverse("cart")) if request.htmx else redirect("cart")
    name = added.name_of(product_id)
    if request.htmx:
        # The button's own answer, and the header's count, without leaving the page.
        return render(
            request, "storefront/_added.html", {"name": name, "cart_count": added.item_count}
        )
    messages.success(request, f"Added {name} to your cart.")
    return redirect("cart")


@require_POST
@vary_on_headers("HX-Request")
def cart_line(request: HtmxHttpRequest, product_id: int) -> HttpResponse:
    """Set a line's quantity (0, or the remove button, takes it out)."""
    shopper = _shopper(request)
    form = QuantityForm(request.POST)
    removing = "remove" in request.POST
    if not removing and not form.is_valid():
        said = "Choose a quantity between 0 and 1,000."
        if request.htmx:  # said in the cart htmx swaps in (it swaps no 4xx answer)
            return _cart_page(request, selectors.cart_get(shopper=shopper), error=said)
        messages.error(request, said)
        return redirect("cart")
    quantity = 0 if removing else form.cleaned_data["quantity"]
    changed: Cart | None
    said = ""
    try:
        changed = services.cart_set(shopper=shopper, product_id=product_id, quantity=quantity)
    except ApiError as error:
        said = _say_cart_refusal(request, error)
        changed = selectors.cart_get(shopper=shopper)
    if request.htmx:
        if said:
            list(messages.get_messages(request))  # said in the cart itself, not again later
        return _cart_page(request, changed, error=said)
    return redirect("cart")


# Accounts ----------------------------------------------------------------------------


def _welcome(request: HttpRequest, signed_in: services.SignedIn, greeting: str) -> None:
    rotate_token(request)  # a new CSRF secret with the new session, as Django's login() does
    messages.success(request, greeting)
    if signed_in.merged is not None and signed_in.merged.item_count:
        count = signed_in.merged.item_count
        messages.info(request, f"Your cart is with your account now: {count} items.")
    if signed_in.cart_left_behind:
        messages.error(
            request,
            "Your guest cart could not be added to your account just now; "
            "open your cart to try again.",
        )


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signed_in = services.account_sign_in(shopper=_shopper(request), **form.cleaned_data)
        except ApiError as error:
            if error.code not in ("not_authenticated", "validation_error"):
                raise
            form.add_error(None, "That username and password do not match an active account.")
        else:
            _welcome(request, signed_in, f"Welcome back, {form.cleaned_data['username']}.")
            return redirect(_next_url(request, reverse("catalogue")))
    next_url = _next_url(request, "")
    return render(request, "storefront/sign_in.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signed_in = services.account_sign_up(shopper=_shopper(request), **form.cleaned_data)
        except ApiError as error:
            if error.code != "validation_error":
                raise
            add_api_errors(form, error)
        else:
            _welcome(request, signed_in, f"Welcome to Souk, {form.cleaned_data['username']}.")
            return redirect(_next_url(request, reverse("catalogue")))
    next_url = _next_url(request, "")
    return render(request, "storefront/sign_up.html", {"form": form, "next": next_url})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    services.account_sign_out(shopper=_shopper(request))
    messages.info(request, "You are signed out.")
    return redirect("catalogue")


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        messages.info(
            request,
            "If an account has that address, a link to choose a new password is on its way.",
        )
        return redirect("sign-in")
    return render(request, "storefront/password_reset.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    form = NewPasswordForm(request.POST or None, initial={"token": request.GET.get("token", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(**form.cleaned_data)
        except ApiError as error:
            if error.code != "validation_error":
                raise
            add_api_errors(form, error)
        else:
            messages.success(request, "Your password is changed. Sign in with the new one.")
            return redirect("sign-in")
    return render(request, "storefront/password_reset_confirm.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def verify_email(request: HttpRequest) -> HttpResponse:
    """The link in the mail opens a page with one button: a GET changes nothing (mail
    scanners follow links), the POST verifies."""
    token = request.POST.get("token") or request.GET.get("token", "")
    if request.method == "POST":
        try:
            services.email_verify(token=token)
        except ApiError as error:
            if error.code != "validation_error":
                raise
            messages.error(request, "This link is not valid any more. Ask for a new one.")
        else:
            messages.success(request, "Your e-mail address is verified. Thank you.")
        return redirect("catalogue")
    return render(request, "storefront/verify_email.html", {"token": token})


# Checkout -----------------------------------------------------------------------------


def _out_of_stock_message(error: ApiError, cart: Cart | None) -> str:
    parts = []
    for line in error.details.get("lines", []):
        name = cart.name_of(int(line["product_id"])) if cart else f"Product {line['product_id']}"
        available = int(line.get("available", 0))
        if available:
            parts.append(f"only {available} of {name} left (you asked for {line['requested']})")
        else:
            parts.append(f"{name} is out of stock")
    listed = "; ".join(parts) or "some products are out of stock"
    return f"Sorry: {listed}. Change your cart, then place the order again."


def _checkout_context(
    request: HttpRequest, form: CheckoutForm, cart: Cart | None, **more: Any
) -> dict[str, Any]:
    quote = None
    if cart is not None and form.is_bound:
        country = form.data.get("country", "")
        quote = selectors.shipping_quote(
            cart=cart, country=country, postal_code=form.data.get("postal_code", "")
        )
    return {"form": form, "cart": cart, "quote": quote, **more}


def _with_a_new_key(request: HttpRequest, countries: list[Any]) -> CheckoutForm:
    data = request.POST.copy()
    data["idempotency_key"] = uuid.uuid4().hex
    form = CheckoutForm(data, countries=countries)
    form.is_valid()
    return form


@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    shopper = _shopper(request)
    if not shopper.signed_in:
        return _sign_in_first(request)
    cart = selectors.cart_get(shopper=shopper)
    countries = selectors.shipping_countries()
    form = CheckoutForm(request.POST or None, countries=countries)
    placing = request.method == "POST" and "quote" not in request.POST
    if placing and form.is_valid():
        try:
            order = services.checkout_place(
                shopper=shopper,
                shipping_address=form.shipping_address(),
                payment_token=form.cleaned_data["payment_token"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except services.CheckoutUnconfirmed:
            # The same form again (the same key) can only give the order this one placed.
            form.add_error(
                None,
                "We could not confirm your order in time. Place it again: "
                "this form cannot place a second order.",
            )
        except ApiError as error:
            if error.code in ("out_of_stock", "idempotency_key_reused"):
                # The key keeps this answer; the next try, once the cart is changed, is a
                # new checkout: a new key, and the shopper looks again before placing it.
                said = (
                    _out_of_stock_message(error, cart)
                    if error.code == "out_of_stock"
                    else "Your cart changed meanwhile. Check it, then place the order."
                )
                form = _with_a_new_key(request, countries)
                form.add_error(None, said)
            elif error.code == "validation_error":
                add_api_errors(form, error, nested="shipping_address")
            else:
                raise
        else:
            return redirect("order", order_id=order.id)
    status = 400 if form.errors else 200
    context = _checkout_context(request, form, cart)
    return render(request, "storefront/checkout.html", context, status=status)


@require_POST
def checkout_quote(request: HttpRequest) -> HttpResponse:
    """The shipping quote for the address typed so far (htmx, as it changes)."""
    shopper = _shopper(request)
    cart = selectors.cart_get(shopper=shopper) if shopper.signed_in else None
    quote = None
    if cart is not None:
        quote = selectors.shipping_quote(
            cart=cart,
            country=request.POST.get("country", ""),
            postal_code=request.POST.get("postal_code", ""),
        )
    return render(request, "storefront/_quote.html", {"cart": cart, "quote": quote})


# Orders ----------------------------------------------------------------------------------


@require_safe
def orders(request: HttpRequest) -> HttpResponse:
    shopper = _shopper(request)
    if not shopper.signed_in:
        return _sign_in_first(request)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    # Past the pages the API numbers (a thousand orders), its next links carry a cursor.
    cursor = request.GET.get("cursor", "")[:8192]
    page = selectors.order_list(shopper=shopper, page=number, cursor=cursor)
    if page is None:  # past the last page, or a cursor the API refused: the first one
        return redirect("orders")
    return render(request, "storefront/orders.html", {"page": page})


def _order_or_404(request: HttpRequest, order_id: str) -> Any:
    found = selectors.order_get(shopper=_shopper(request), order_id=order_id)
    if found is None:
        raise Http404("No such order.")
    return found


def _order_context(order: Any) -> dict[str, Any]:
    moving = order.status in selectors.MOVING_STATUSES
    return {
        "order": order,
        "moving": moving,
        "poll_seconds": selectors.storefront_option("ORDER_POLL_SECONDS"),
        "reason": payment_reason(order.payment.reason if order.payment else None),
    }


@require_safe
def order(request: HttpRequest, order_id: str) -> HttpResponse:
    if not _shopper(request).signed_in:
        return _sign_in_first(request)
    found = _order_or_404(request, str(order_id))
    return render(request, "storefront/order.html", _order_context(found))


@require_safe
def order_status(request: HttpRequest, order_id: str) -> HttpResponse:
    """The order's status block, which the order page asks for again while it may move."""
    if not _shopper(request).signed_in:
        return _sign_in_first(request)
    found = _order_or_404(request, str(order_id))
    return render(request, "storefront/_order_status.html", _order_context(found))


@require_http_methods(["GET", "HEAD", "POST"])
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    """GET asks to confirm; POST cancels."""
    if not _shopper(request).signed_in:
        return _sign_in_first(request)
    found = _order_or_404(request, str(order_id))
    if request.method == "POST":
        try:
            services.order_cancel(shopper=_shopper(request), order_id=found.id)
        except ApiError as error:
            if error.code != "conflict":
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, "Your order is cancelled.")
        return redirect("order", order_id=found.id)
    return render(request, "storefront/order_cancel.html", {"order": found})


@require_POST
def order_refill_cart(request: HttpRequest, order_id: str) -> HttpResponse:
    """An order's products back in the cart (after a failed payment, say)."""
    if not _shopper(request).signed_in:
        return _sign_in_first(request)
    found = _order_or_404(request, str(order_id))
    try:
        services.cart_refill(shopper=_shopper(request), order=found)
    except ApiError as error:
        _say_cart_refusal(request, error)
    else:
        messages.success(request, "The order's products are back in your cart.")
    return redirect("cart")


# Errors ----------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "storefront/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "storefront/403_csrf.html", status=403)
