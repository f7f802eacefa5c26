"""Driver exceptions to PEP 249 exceptions (then Django's), secrets redacted."""

from __future__ import annotations

from typing import Any

from cassandra import (
    AlreadyExists,
    AuthenticationFailed,
    ConsistencyLevel,
    CoordinationFailure,
    InvalidRequest,
    OperationTimedOut,
    RequestExecutionException,
    Unauthorized,
    Unavailable,
)
from cassandra.cluster import NoHostAvailable
from cassandra.connection import ConnectionException, ConnectionShutdown
from cassandra.protocol import ConfigurationException, ErrorMessage, ServerError, SyntaxException
from django_backend_core import dbapi
from django_backend_core.secrets import Redactor

__all__ = ["ConsistencyLevel", "map_error"]


def map_error(exc: BaseException, redactor: Redactor | None = None) -> dbapi.Error:
    """Return the PEP 249 error to raise for a driver exception (``raise ... from exc``)."""
    r = redactor or Redactor()
    msg = r.redact(str(exc))
    code = getattr(exc, "code", None)
    payload: Any = {"driver_error": type(exc).__name__, "message": msg}
    cls: type[dbapi.Error]
    if isinstance(
        exc, (NoHostAvailable, OperationTimedOut, ConnectionException, ConnectionShutdown, OSError)
    ):
        cls = dbapi.OperationalError
        if isinstance(exc, NoHostAvailable):
            msg = "Cassandra unreachable (no host available): " + msg
    elif isinstance(exc, (Unavailable, CoordinationFailure, RequestExecutionException)):
        cls = dbapi.OperationalError
    elif isinstance(exc, AuthenticationFailed):
        cls = dbapi.OperationalError
    elif isinstance(exc, Unauthorized):
        cls = dbapi.ProgrammingError
    elif isinstance(exc, (InvalidRequest, SyntaxException, ConfigurationException, AlreadyExists)):
        cls = dbapi.ProgrammingError
    elif isinstance(exc, ServerError):
        cls = dbapi.InternalError
    elif isinstance(exc, ErrorMessage):
        cls = dbapi.DatabaseError
    else:
        cls = dbapi.DatabaseError
    return cls(msg, payload=payload, code=code)
