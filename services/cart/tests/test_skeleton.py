"""Health, schema, docs, admin and the error envelope, as every service serves them."""

from souk_common.pytest_plugin import ServiceSkeletonChecks


class TestSkeleton(ServiceSkeletonChecks):
    pass
