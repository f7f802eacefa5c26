"""What the backend can do, and how many requests it took: read from the connection itself."""

from __future__ import annotations

from django.db import connections


def round_trips(alias: str) -> int | None:
    """Requests sent so far on this thread's connection for ``alias``, if the backend counts.

    Backends built on django-backend-core expose ``connection.connection.metrics``
    (a ``RoundTrips``); Django's own backends have no such counter, so this returns None.
    """
    conn = connections[alias]
    conn.ensure_connection()
    metrics = getattr(conn.connection, "metrics", None)
    return None if metrics is None else int(metrics.requests)


def has_transactions(alias: str) -> bool:
    return bool(connections[alias].features.supports_transactions)


def claim_strategy(alias: str) -> str:
    """How the task queue claims a task on this database (see tasks/queue.py)."""
    features = connections[alias].features
    if features.has_select_for_update_skip_locked and features.supports_transactions:
        return "select_for_update(skip_locked=True)"
    return "conditional UPDATE"
