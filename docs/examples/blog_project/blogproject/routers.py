"""Send the analytics app to its own database alias."""

from __future__ import annotations

from typing import Any

ANALYTICS_APPS = {"analytics"}
ANALYTICS_DB = "analytics"


class AnalyticsRouter:
    """Analytics models read, write and migrate on "analytics"; everything else on "default"."""

    def _is_analytics(self, model: Any) -> bool:
        return model._meta.app_label in ANALYTICS_APPS

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return ANALYTICS_DB if self._is_analytics(model) else "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return ANALYTICS_DB if self._is_analytics(model) else "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # No foreign keys across the two databases: page views keep a plain post_id.
        return self._is_analytics(obj1) == self._is_analytics(obj2)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        if app_label in ANALYTICS_APPS:
            return db == ANALYTICS_DB
        return db == "default"
