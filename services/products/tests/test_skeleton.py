"""Health, schema, docs, admin and the error envelope, as every service serves them."""

from souk_common.testing import ServiceSkeletonChecks


class TestSkeleton(ServiceSkeletonChecks):
    pass
