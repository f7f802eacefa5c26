"""Django admin pages for DjangoCassandraModel: list (paged with Cassandra's paging state),
add, change and delete, composite primary keys included (rows are addressed by ``pk_token``).

Register with ``admin.site.register(Party, CassandraModelAdmin)`` (or a subclass setting
``list_display`` / ``list_per_page`` / ``partition_filter``). Django's own ModelAdmin needs a
SQL model (ContentType, LogEntry, QuerySet internals), so this class implements the same
pages on cqlengine instead; permissions are ``<app>.<action>_<model>`` (superusers pass).
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

from cassandra.cqlengine import columns
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

__all__ = ["CassandraModelAdmin", "register"]


class _JSONField(forms.CharField):
    """Collections and vectors edited as JSON."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in ("", None):
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise forms.ValidationError("Enter valid JSON.") from None

    def prepare_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (set, frozenset)) or type(value).__name__ == "SortedSet":
            value = sorted(value)
        if hasattr(value, "items"):
            value = dict(value.items())
        return json.dumps(value, default=str)


def form_field(col: Any) -> forms.Field:
    required = bool(col.required or col.primary_key) and col.default is None
    kw: dict[str, Any] = {"required": required, "label": col.column_name.replace("_", " ")}
    if isinstance(col, columns.Boolean):
        return forms.BooleanField(required=False, label=kw["label"])
    if isinstance(
        col, (columns.Integer, columns.BigInt, columns.SmallInt, columns.TinyInt, columns.VarInt)
    ):
        return forms.IntegerField(**kw)
    if isinstance(col, (columns.Float, columns.Double)):
        return forms.FloatField(**kw)
    if isinstance(col, columns.Decimal):
        return forms.DecimalField(**kw)
    if isinstance(col, (columns.UUID, columns.TimeUUID)):
        return forms.UUIDField(**kw)
    if isinstance(col, columns.DateTime):
        return forms.DateTimeField(**kw)
    if isinstance(col, columns.Date):
        return forms.DateField(**kw)
    if isinstance(col, (columns.BaseContainerColumn, columns.Tuple)) or col.db_type.startswith(
        "vector"
    ):
        return _JSONField(widget=forms.Textarea(attrs={"rows": 2}), **kw)
    return forms.CharField(**kw)


class CassandraModelAdmin:
    """Admin pages for one DjangoCassandraModel (see module docstring)."""

    list_display: tuple[str, ...] | None = None
    list_per_page = 50
    partition_filter = True  # show a form to restrict the list to one partition

    def __init__(self, model: type, admin_site: Any):
        self.model = model
        self.opts = model._meta
        self.admin_site = admin_site

    # -- what AdminSite expects of a ModelAdmin
    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def _perm(self, request: HttpRequest, action: str) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff) and (
            user.is_superuser
            or user.has_perm(f"{self.opts.app_label}.{action}_{self.opts.model_name}")
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "view") or self._perm(request, "change")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._perm(request, "view") or self._perm(request, "change")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._perm(request, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._perm(request, "delete")

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        return {
            "add": self.has_add_permission(request),
            "change": self.has_change_permission(request),
            "delete": self.has_delete_permission(request),
            "view": self.has_view_permission(request),
        }

    @property
    def urls(self) -> list[Any]:
        return self.get_urls()

    def get_urls(self) -> list[Any]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.changelist_view), name=f"{prefix}_changelist"),
            path("add/", wrap(self.add_view), name=f"{prefix}_add"),
            path("<path:object_id>/delete/", wrap(self.delete_view), name=f"{prefix}_delete"),
            path("<path:object_id>/change/", wrap(self.change_view), name=f"{prefix}_change"),
        ]

    # -- helpers
    def columns(self) -> list[Any]:
        return list(self.model._columns.values())

    def display_columns(self) -> list[str]:
        return list(self.list_display or [c.column_name for c in self.columns()])

    def url(self, name: str, *args: Any) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    def get_object(self, object_id: str) -> Any:
        try:
            return self.model.objects.get(pk=object_id)
        except (self.model.DoesNotExist, ValueError, KeyError):
            return None

    def form_class(self, *, adding: bool) -> type[forms.Form]:
        fields = {}
        for col in self.columns():
            f = form_field(col)
            if col.primary_key and not adding:
                f.disabled = True
                f.required = False
            if adding and col.primary_key and col.default is not None:
                f.required = False
                f.help_text = "Leave empty for a generated value."
            fields[col.column_name] = f
        return type(f"{self.opts.object_name}Form", (forms.Form,), fields)

    def context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        ctx = dict(self.admin_site.each_context(request))
        ctx.update(opts=self.opts, app_label=self.opts.app_label, has_view_permission=True)
        ctx.update(extra)
        return ctx

    # -- views
    def changelist_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        from cassandra.query import SimpleStatement
        from django.db import connections

        wrapper = connections[self.model._class_get_connection()]
        where, params = [], []
        part = {}
        for name in self.opts.partition_key_columns:
            raw = request.GET.get(name)
            if raw:
                part[name] = raw
        if part and len(part) == len(self.opts.partition_key_columns):
            from .models import _parse

            for name, raw in part.items():
                where.append(f'"{name}" = %s')
                params.append(_parse(self.model._columns[name], raw))
        cql = f"SELECT * FROM {self.model.column_family_name()}"
        if where:
            cql += " WHERE " + " AND ".join(where)
        page_state = request.GET.get("page")
        with wrapper.wrap_database_errors:
            wrapper.ensure_connection()
            conn = wrapper.connection
            stmt, values = conn.statement(cql, params or None)
            if hasattr(stmt, "bind"):
                stmt = stmt.bind(values or [])
                values = None
            else:
                stmt = SimpleStatement(cql)
            stmt.fetch_size = self.list_per_page
            try:
                state = bytes.fromhex(page_state) if page_state else None
            except ValueError:
                state = None
            rs = conn.session.execute(stmt, values, paging_state=state)
            rows = list(rs.current_rows)
            next_state = rs.paging_state
        cols = self.display_columns()
        objs = [self.model._construct_instance(r) for r in rows]
        table = [
            {
                "url": self.url("change", o.pk_token),
                "cells": [_show(getattr(o, c, None)) for c in cols],
            }
            for o in objs
        ]
        query = "&".join(f"{k}={v}" for k, v in part.items())
        next_url = f"?{query}&page={next_state.hex()}" if next_state else None
        return TemplateResponse(
            request,
            "django_astra/admin/change_list.html",
            self.context(
                request,
                title=f"Select {self.opts.verbose_name} to change",
                columns=cols,
                rows=table,
                next_url=next_url,
                partition_columns=self.opts.partition_key_columns if self.partition_filter else [],
                partition_values=part,
                add_url=self.url("add") if self.has_add_permission(request) else None,
            ),
        )

    def add_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        Form = self.form_class(adding=True)
        if request.method == "POST":
            form = Form(request.POST)
            if form.is_valid():
                data = {
                    k: v
                    for k, v in form.cleaned_data.items()
                    if not (v in (None, "") and self.model._columns[k].default is not None)
                }
                from cassandra.cqlengine.query import LWTException

                try:
                    # IF NOT EXISTS: an add never silently overwrites an existing row (Cassandra upserts).
                    obj = self.model.if_not_exists().create(**data)
                except LWTException:
                    form.add_error(
                        None, f"A {self.opts.verbose_name} with this primary key already exists."
                    )
                else:
                    messages.success(
                        request, f"The {self.opts.verbose_name} “{obj.pk}” was added successfully."
                    )
                    return HttpResponseRedirect(self.url("changelist"))
        else:
            form = Form()
        return TemplateResponse(
            request,
            "django_astra/admin/change_form.html",
            self.context(
                request, title=f"Add {self.opts.verbose_name}", form=form, add=True, delete_url=None
            ),
        )

    def change_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(object_id)
        if obj is None:
            raise Http404(f"{self.opts.verbose_name} with key {object_id!r} does not exist.")
        Form = self.form_class(adding=False)
        initial = {c.column_name: getattr(obj, c.column_name) for c in self.columns()}
        if request.method == "POST":
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            form = Form(request.POST, initial=initial)
            if form.is_valid():
                changes = {
                    k: v
                    for k, v in form.cleaned_data.items()
                    if not self.model._columns[k].primary_key and k in form.changed_data
                }
                if changes:
                    obj.update(**changes)
                messages.success(
                    request, f"The {self.opts.verbose_name} “{obj.pk}” was changed successfully."
                )
                return HttpResponseRedirect(self.url("changelist"))
        else:
            form = Form(initial=initial)
        return TemplateResponse(
            request,
            "django_astra/admin/change_form.html",
            self.context(
                request,
                title=f"Change {self.opts.verbose_name}",
                form=form,
                add=False,
                object=obj,
                delete_url=self.url("delete", obj.pk_token)
                if self.has_delete_permission(request, obj)
                else None,
            ),
        )

    def delete_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(object_id)
        if obj is None:
            raise Http404(f"{self.opts.verbose_name} with key {object_id!r} does not exist.")
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        if request.method == "POST":
            obj.delete()
            messages.success(
                request, f"The {self.opts.verbose_name} “{obj.pk}” was deleted successfully."
            )
            return HttpResponseRedirect(self.url("changelist"))
        return TemplateResponse(
            request,
            "django_astra/admin/delete_confirmation.html",
            self.context(request, title="Are you sure?", object=obj, key=obj.pk_token),
        )


def _show(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (datetime.datetime, datetime.date, uuid.UUID, Decimal)):
        return str(v)
    return str(v)


def register(
    model: type, admin_class: type[CassandraModelAdmin] = CassandraModelAdmin, site: Any = None
) -> None:
    """``admin.site.register`` for a DjangoCassandraModel (it is not a Django ModelBase, so pass a list)."""
    from django.contrib import admin

    (site or admin.site).register([model], admin_class)
