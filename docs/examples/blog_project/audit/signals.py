"""Write an AuditEntry whenever a blog object is saved or deleted.

The entry goes to the same database as the object, so where the backend has transactions it
commits or rolls back together with the change. ``bulk_create``/``update()`` send no signals
(Django's rule), so they leave no audit entries.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_save

AUDITED_APPS = {"blog"}


def _record(instance: Any, action: str, using: str) -> None:
    from .models import AuditEntry

    AuditEntry.objects.using(using).create(
        action=action,
        model=instance._meta.label,
        object_pk=str(instance.pk),
        summary=str(instance)[:200],
    )


def on_save(sender: Any, instance: Any, created: bool, using: str, raw: bool = False, **kw: Any):
    if not raw:  # fixtures loading raw rows are not user actions
        _record(instance, "created" if created else "updated", using)


def on_delete(sender: Any, instance: Any, using: str, **kw: Any) -> None:
    _record(instance, "deleted", using)


def connect() -> None:
    for model in apps.get_models():
        if model._meta.app_label in AUDITED_APPS:
            post_save.connect(on_save, sender=model, dispatch_uid=f"audit-save-{model._meta.label}")
            post_delete.connect(
                on_delete, sender=model, dispatch_uid=f"audit-delete-{model._meta.label}"
            )
