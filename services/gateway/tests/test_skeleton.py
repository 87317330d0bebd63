"""Health, docs, admin and the error envelope of the admin listener, as every service serves
them. The merged OpenAPI schema is the public listener's (tests/test_routes_and_docs.py)."""

import pytest
from django.test import Client

from souk_common.pytest_plugin import ServiceSkeletonChecks


class TestSkeleton(ServiceSkeletonChecks):
    @pytest.mark.django_db
    def test_openapi_schema(self, client: Client) -> None:
        """Django has no schema of its own here: the public listener merges the services'."""
        assert client.get("/api/schema/").status_code == 404

    def test_the_site_root_leads_to_the_api_docs(self, client: Client) -> None:
        """On the admin listener ``/`` leads to the admin (the public one: test_web.py)."""
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
