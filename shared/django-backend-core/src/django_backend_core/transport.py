"""The small interface between the core's cursor and a store's wire protocol.

A transport knows the wire, not Django: it sends one statement or a batch and returns rows.
Keeping it this small is what lets one PEP 249 cursor (``cursor.Cursor``) serve every backend,
and lets tests drive the cursor with an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Statement:
    """One statement, ``sql`` already in the store's placeholder style, ``params`` in order."""

    sql: str
    params: list[Any] = field(default_factory=list)


@dataclass
class Result:
    """What one statement returned.

    ``columns``: result column names (empty for statements without a result set);
    ``rows``: tuples in server order; ``rowcount``: rows changed, or -1 if unknown / not DML;
    ``lastrowid``: the rowid of the last insert if the store reports it; ``payload``: the raw
    response (meta, timings) for callers that need more; ``types``: optional per-column type
    codes for ``cursor.description``.
    """

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = -1
    lastrowid: int | None = None
    payload: Any = None
    types: list[Any] | None = None


@runtime_checkable
class Transport(Protocol):
    """What a backend implements for its store.

    Implementations raise :mod:`django_backend_core.dbapi` exceptions (built with an
    :class:`~django_backend_core.errors.ErrorMapper`), never library exceptions, and record
    every round trip in a :class:`~django_backend_core.metrics.RoundTrips` (conventionally
    exposed as ``self.metrics`` so ``dbapi.Connection`` picks it up).

    Optional methods, used by ``dbapi.Connection`` when present: ``begin()``, ``commit()``,
    ``rollback()`` and an ``in_transaction`` bool attribute.
    """

    def execute(self, stmt: Statement) -> Result:
        """Run one statement in one round trip."""
        ...

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run statements in one round trip, atomically where the store allows."""
        ...

    def close(self) -> None:
        """Release the connection (socket, client); idempotent."""
        ...


@runtime_checkable
class TransactionalTransport(Transport, Protocol):
    """A transport that can hold a transaction open across round trips."""

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
