"""Routes of the shipping app: the public quote and countries, and the internal quote."""

from django.urls import URLPattern, path

from shipping import apis

urlpatterns: list[URLPattern] = [
    path("api/shipping/quotes/", apis.QuoteApi.as_view(), name="quote"),
    path("api/shipping/countries/", apis.CountryListApi.as_view(), name="country-list"),
    path("internal/quotes/", apis.InternalQuoteApi.as_view(), name="internal-quote"),
]
