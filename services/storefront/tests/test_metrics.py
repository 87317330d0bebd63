"""/metrics on the storefront: its pages counted by route and status, its calls to the
gateway by part of the API and outcome."""

from prometheus_client.parser import text_string_to_metric_families

from tests.answers import product

PAGE = (("method", "GET"), ("route", "/products/<int:product_id>/"), ("status", "200"))
CALLS = (("method", "GET"), ("outcome", "200"), ("upstream", "gateway (products)"))


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_pages_and_calls_are_counted(client, api):
    api.add("GET", "/api/products/1/", json=product(1, "Sencha green tea"))
    api.add("GET", "/api/products/2/", json=product(2, "Assam tea"))
    before = scrape(client)

    client.get("/products/1/")
    client.get("/products/2/")

    after = scrape(client)
    pages = after[("souk_http_requests_total", PAGE)] - before.get(
        ("souk_http_requests_total", PAGE), 0
    )
    calls = after[("souk_client_calls_total", CALLS)] - before.get(
        ("souk_client_calls_total", CALLS), 0
    )
    assert (pages, calls) == (2, 2)


def test_metrics_asked_through_a_proxy_are_not_found(client):
    """The Ingress in front of the storefront adds X-Forwarded-For; Prometheus, scraping
    the pod itself, does not."""
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status_code == 404
    assert "souk_" not in response.content.decode()
