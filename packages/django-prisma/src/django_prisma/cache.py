"""Per-queryset Accelerate caching: ``Model.objects.with_cache(CacheStrategy(...))``.

``with_cache`` returns a *clone* carrying the strategy on its ``Query`` (the shared manager
keeps no state, unlike the 2023 proof of concept), so concurrent requests and other querysets
are unaffected. Accelerate documents that raw SQL queries are not cached ("Cannot cache raw
queries"); django-prisma sends the headers anyway so a cache that honours them can, and
exposes the ``accelerate-cache-status`` the server answered via ``connection.last_cache_status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

from .transport import CacheStrategy, validate_tags

__all__ = ["CacheStrategy", "CacheableManager", "CacheableQuerySet", "invalidate"]


class CacheableQuerySet(models.QuerySet):
    def with_cache(self, strategy: CacheStrategy | None) -> CacheableQuerySet:
        if strategy is not None and not isinstance(strategy, CacheStrategy):
            raise TypeError("with_cache() takes a CacheStrategy (or None to disable caching)")
        clone = self._chain()
        clone.query.cache_strategy = strategy
        return clone

    @property
    def cache_strategy(self) -> CacheStrategy | None:
        return getattr(self.query, "cache_strategy", None)

    def last_cache_status(self) -> str | None:
        return getattr(connections[self.db], "last_cache_status", None)


class CacheableManager(models.Manager.from_queryset(CacheableQuerySet)):  # type: ignore[misc]
    pass


def invalidate(tags: Sequence[str] | str, using: str | None = None, model: Any = None) -> None:
    """``POST /invalidate`` on the database of ``using`` (or the model's write database)."""
    if tags != "all":
        validate_tags(list(tags))
    alias = using or (router.db_for_write(model) if model is not None else "default")
    connections[alias].invalidate(tags)
