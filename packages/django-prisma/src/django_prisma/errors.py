"""Map Prisma 7 / Accelerate error answers to PEP 249 (and Django) exceptions.

Rules (shared/reference/prisma.md section 2.2 and "Implications" 4):
P2010 carries the PostgreSQL SQLSTATE in ``meta.driverAdapterError.cause.originalCode`` and is
mapped by class; P2002/P2003/P2011 are integrity errors; P2028 or HTTP 409 (interactive
transaction closed/expired) becomes Django's TransactionManagementError; P6xxx, 401, 429 and
5xx are operational. The original JSON (redacted) stays on ``exc.payload``. Classification
goes through the core's :class:`~django_backend_core.errors.ErrorMapper`.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.transaction import TransactionManagementError
from django_backend_core import dbapi
from django_backend_core.errors import ErrorMapper, Rule
from django_backend_core.secrets import Redactor

_INTEGRITY_CODES = {"P2002", "P2003", "P2011", "P2004", "P2014"}
# Driver-adapter error kinds and the SQLSTATE each stands for: a COMMIT failing a deferred
# check answers 500 {"error": "ForeignKeyConstraintViolation"} with no SQLSTATE (measured on
# @prisma/dev 0.25.2).
_KIND_SQLSTATE = {
    "UniqueConstraintViolation": "23505",
    "ForeignKeyConstraintViolation": "23503",
    "NullConstraintViolation": "23502",
    "CheckConstraintViolation": "23514",
}
_SQLSTATE_IN_TEXT = re.compile(r"Code: `([0-9A-Z]{5})`")

# First match wins. Classified by the core's ErrorMapper; P2028/409 is handled before it,
# because Django's TransactionManagementError is not a DB-API error class.
MAPPER = ErrorMapper(
    [
        Rule(dbapi.IntegrityError, sqlstate="23"),
        Rule(dbapi.DataError, sqlstate="22"),
        Rule(dbapi.ProgrammingError, sqlstate="42"),
        Rule(dbapi.OperationalError, sqlstate=("40", "08", "57", "53")),
        Rule(dbapi.NotSupportedError, sqlstate="0A"),
        Rule(dbapi.InternalError, sqlstate=("25", "XX")),
        Rule(dbapi.IntegrityError, code=_INTEGRITY_CODES),
        # The engine cannot return some column types (regtype, "char", void, ...).
        Rule(dbapi.NotSupportedError, message=r"UnsupportedNativeDataType|Failed to deserialize"),
        # Accelerate's own errors (P6000 server error ... P6009 response too large).
        Rule(dbapi.OperationalError, code={f"P6{n:03d}" for n in range(1000)}),
        Rule(dbapi.OperationalError, status={401, 403, 422, 429, *range(500, 600)}),
    ],
    default=dbapi.DatabaseError,
)
_UNSUPPORTED_HINT = (
    " (the Prisma query engine cannot return this column type; cast it in SQL, e.g. to text)"
)


class PrismaTransactionError(TransactionManagementError):
    """The interactive transaction is gone (P2028 / HTTP 409): closed, expired or unknown.

    Deliberately not a DB-API error so Django's error wrapper lets it through unchanged.
    """

    def __init__(
        self,
        message: str,
        *,
        payload: Any = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.payload = payload
        self.code = code
        self.sqlstate: str | None = None
        self.status = status


def sqlstate_of(payload: Any) -> str | None:
    """The SQLSTATE of a P2010 answer, if the driver adapter reported one."""
    if not isinstance(payload, dict):
        return None
    cause = ((payload.get("meta") or {}).get("driverAdapterError") or {}).get("cause") or {}
    code = cause.get("originalCode") or cause.get("code")
    if isinstance(code, str) and len(code) == 5:
        return code
    match = _SQLSTATE_IN_TEXT.search(str(payload.get("error", "")))
    return match.group(1) if match else None


def map_error(
    status: int,
    payload: Any,
    *,
    header_code: str | None = None,
    redactor: Redactor | None = None,
) -> Exception:
    """Build (not raise) the exception for one failed HTTP answer."""
    if redactor is not None:
        payload = redactor.redact_obj(payload)
    if isinstance(payload, dict):
        code = payload.get("code") or header_code
        message = payload.get("error") or payload.get("message") or ""
    else:
        code = header_code
        message = str(payload or "")
    if not message:
        message = f"HTTP {status} from the Prisma server"
    if redactor is not None:
        message = redactor.redact(message)
    prefix = f"{code}: " if code else ""
    text = f"{prefix}{message}"
    if code == "P2028" or status == 409:
        return PrismaTransactionError(text, payload=payload, code=code, status=status)
    kind = _kind(payload)
    sqlstate = sqlstate_of(payload) or _KIND_SQLSTATE.get(kind or "")
    cls = MAPPER.classify(
        f"{text} [{kind}]" if kind else text, code=code, sqlstate=sqlstate, status=status
    )
    if cls is dbapi.NotSupportedError and sqlstate is None:
        text += _UNSUPPORTED_HINT
    return cls(text, payload=payload, code=code, sqlstate=sqlstate, status=status)


def _kind(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    cause = ((payload.get("meta") or {}).get("driverAdapterError") or {}).get("cause") or {}
    kind = cause.get("kind") or payload.get("error")
    return kind if isinstance(kind, str) else None
