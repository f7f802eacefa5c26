"""Map Prisma 7 / Accelerate error answers to PEP 249 (and Django) exceptions.

Rules (shared/reference/prisma.md section 2.2 and "Implications" 4):
P2010 carries the PostgreSQL SQLSTATE in ``meta.driverAdapterError.cause.originalCode`` and is
mapped by class; P2002/P2003/P2011 are integrity errors; P2028 or HTTP 409 (interactive
transaction closed/expired) becomes Django's TransactionManagementError; P6xxx, 401, 429 and
5xx are operational. The original JSON (redacted) stays on ``exc.payload``.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.transaction import TransactionManagementError
from django_backend_core import dbapi
from django_backend_core.secrets import Redactor

_SQLSTATE_CLASSES: dict[str, type[dbapi.Error]] = {
    "23": dbapi.IntegrityError,
    "22": dbapi.DataError,
    "42": dbapi.ProgrammingError,
    "40": dbapi.OperationalError,
    "08": dbapi.OperationalError,
    "57": dbapi.OperationalError,
    "53": dbapi.OperationalError,
    "0A": dbapi.NotSupportedError,
    "25": dbapi.InternalError,
    "XX": dbapi.InternalError,
}
_INTEGRITY_CODES = {"P2002", "P2003", "P2011", "P2004", "P2014"}
# Driver-adapter error kinds; a failing COMMIT answers e.g. 500 {"error":
# "ForeignKeyConstraintViolation"} with no SQLSTATE (measured on @prisma/dev 0.25.2).
_INTEGRITY_KINDS = {
    "UniqueConstraintViolation",
    "ForeignKeyConstraintViolation",
    "NullConstraintViolation",
    "CheckConstraintViolation",
}
_SQLSTATE_IN_TEXT = re.compile(r"Code: `([0-9A-Z]{5})`")


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
    sqlstate = sqlstate_of(payload)
    cls: type[dbapi.Error]
    if sqlstate is not None and sqlstate[:2] in _SQLSTATE_CLASSES:
        cls = _SQLSTATE_CLASSES[sqlstate[:2]]
    elif code in _INTEGRITY_CODES or _kind(payload) in _INTEGRITY_KINDS:
        cls = dbapi.IntegrityError
    elif isinstance(payload, dict) and _unsupported_type(payload):
        cls = dbapi.NotSupportedError
        text += (
            " (the Prisma query engine cannot return this column type; cast it in SQL, "
            "e.g. to text)"
        )
    elif (code or "").startswith("P6") or status in (401, 403, 429) or status >= 500:
        cls = dbapi.OperationalError
    elif code == "P2010":
        cls = dbapi.DatabaseError
    elif status == 422:
        cls = dbapi.OperationalError
    else:
        cls = dbapi.DatabaseError
    return cls(text, payload=payload, code=code, sqlstate=sqlstate, status=status)


def _kind(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    cause = ((payload.get("meta") or {}).get("driverAdapterError") or {}).get("cause") or {}
    kind = cause.get("kind") or payload.get("error")
    return kind if isinstance(kind, str) else None


def _unsupported_type(payload: dict[str, Any]) -> bool:
    cause = ((payload.get("meta") or {}).get("driverAdapterError") or {}).get("cause") or {}
    return cause.get("kind") == "UnsupportedNativeDataType"
