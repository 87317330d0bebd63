"""Django's database cache, with an ``incr`` that counts right under concurrency.

Django's ``incr`` reads then writes, so two workers counting the same key at
once can both write the same number. Rate limits count with ``incr``; here the
read and the write happen in one transaction that holds the row (``SELECT ...
FOR UPDATE`` on PostgreSQL; SQLite transactions here start ``IMMEDIATE``, which
serializes writers). With Redis (``REDIS_URL``) Django's own ``incr`` is atomic.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        with transaction.atomic(using=database):
            if connection.features.has_select_for_update:
                table = connection.ops.quote_name(self._table)  # type: ignore[attr-defined]
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",  # noqa: S608
                        [self.make_and_validate_key(key, version=version)],
                    )
            value: int = super().incr(key, delta, version)
            return value
