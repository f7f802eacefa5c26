"""Operations: D1's statement limits in bulk sizes (exact integers: the core's ``integers.py``)."""

from __future__ import annotations

import json
from typing import Any

from django_backend_core.remote_sqlite.operations import DatabaseOperations as RemoteOperations

from .cursor import MAX_PARAMS

#: Rows per compiled bulk INSERT (each becomes one batch request of <=100 KB statements).
BULK_INSERT_ROWS = 5000
#: Estimated bytes a bulk_update statement may take (D1 allows 100,000; estimates can be low).
UPDATE_STATEMENT_BUDGET = 70_000


class DatabaseOperations(RemoteOperations):
    compiler_module = "django_d1.compiler"

    def bulk_batch_size(self, fields, objs):
        """Rows per statement, chosen from the arguments Django passes (no caller inspection).

        * one field (``in_bulk``, deletion batches): 500 values like the stock backend;
          integers are inlined and other values are inlined past 100 parameters.
        * ``[pk, pk, *fields]`` (``bulk_update``: the pk appears in WHEN and in the IN list):
          as many objects as fit one statement of <= 100 KB, estimated from their values; the
          cursor inlines every value past 100 parameters, so bytes are the real limit.
        * anything else (``bulk_create``): one compiled INSERT of up to 5000 rows, which
          the cursor splits into <= 100 KB statements sent together in one batch request.
        """
        if not fields:
            return len(objs)
        if len(fields) == 1:
            return 500
        if len(fields) >= 2 and _is_pk(fields[0]) and _is_pk(fields[1]):
            if objs and _packable_update(fields[2:], objs):
                # All objects in one CASE update, which the compiler cuts back into
                # statements within the limits, several per batch request.
                return len(objs)
            return self._update_batch_size(fields[2:], objs)
        return max(1, min(len(objs), BULK_INSERT_ROWS))

    def _update_batch_size(self, fields, objs) -> int:
        """Objects per ``bulk_update`` statement so that the statement stays < 100 KB."""
        if not objs:
            return 1
        quote = self.quote_name
        model = objs[0].__class__._meta
        pk = model.pk
        # ' WHEN ("table"."pk" = <pk>) THEN <value>' per field, '<pk>, ' in the IN list.
        when = len(f" WHEN ({quote(model.db_table)}.{quote(pk.column)} = ) THEN ")
        per_field_head = len(" = CASE ELSE NULL END, ") + max(
            (len(quote(getattr(f, "column", None) or str(f))) for f in fields), default=0
        )
        budget = UPDATE_STATEMENT_BUDGET - 200 - per_field_head * len(fields)
        sizes = [0]  # prefix sums of estimated bytes and of parameters that stay bound
        bounds = [0]
        for obj in objs:
            pk_len = len(str(obj.pk)) + 2
            size, bound = pk_len, 0
            for f in fields:
                literal, is_bound = _literal_estimate(
                    getattr(obj, getattr(f, "attname", str(f)), None)
                )
                size += when + pk_len + literal
                bound += is_bound
            sizes.append(sizes[-1] + size)
            bounds.append(bounds[-1] + bound)
        # Django cuts objs into equal slices: every slice (not just the first) must fit.
        n = len(objs)
        batch = n
        while batch > 1:
            starts = range(0, n, batch)
            worst = max(sizes[min(i + batch, n)] - sizes[i] for i in starts)
            params = max(bounds[min(i + batch, n)] - bounds[i] for i in starts)
            if worst <= budget and params <= MAX_PARAMS:
                break
            batch = max(1, min(batch - 1, batch * budget // max(worst, 1)))
        return batch


def _packable_update(fields: Any, objs: Any) -> bool:
    """bulk_update shapes that :mod:`django_d1.compiler` can pack: one table, one-column pk.

    Fields of a parent model (multi-table inheritance) become related updates, and composite
    primary keys compare tuples; both keep Django's per-slice statements.
    """
    meta = objs[0].__class__._meta
    if getattr(meta, "is_composite_pk", False):
        return False
    return all(getattr(f, "model", None) is meta.concrete_model for f in fields)


def _is_pk(field: Any) -> bool:
    return field == "pk" or getattr(field, "primary_key", False)


def _literal_estimate(value: Any) -> tuple[int, int]:
    """(upper estimate of the value's SQL literal length, 1 if it must stay bound else 0)."""
    if hasattr(value, "resolve_expression"):
        return 400, 1  # an expression: compiled SQL and maybe a bound parameter
    if value is None or isinstance(value, bool | int):
        return 24, 0
    if isinstance(value, str):
        # inline_any's literal: quotes doubled, wrapped in quotes.
        return len(value.encode()) + value.count("'") + 2, int("\x00" in value)
    if isinstance(value, bytes | bytearray | memoryview):
        return 2 * len(bytes(value)) + 8, 0
    if isinstance(value, dict | list | tuple):
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError):
            text = str(value)
        return (len(text.encode()) + text.count("'")) * 5 // 4 + 8, 0
    return len(str(value).encode()) * 2 + 16, 0
