"""CQL protocol errors with Cassandra's error codes (native_protocol_v4.spec section 9)."""

from __future__ import annotations

import struct


class CQLError(Exception):
    """An ERROR response: ``code`` plus message plus code-specific body."""

    code = 0x0000

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def extra(self) -> bytes:
        return b""


class ServerError(CQLError):
    code = 0x0000


class ProtocolError(CQLError):
    code = 0x000A


class BadCredentials(CQLError):
    code = 0x0100


class SyntaxError_(CQLError):  # noqa: N801 - Cassandra's SyntaxException
    code = 0x2000


class Unauthorized(CQLError):
    code = 0x2100


class Invalid(CQLError):
    code = 0x2200


class ConfigError(CQLError):
    code = 0x2300


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">H", len(b)) + b


class AlreadyExists(CQLError):
    code = 0x2400

    def __init__(self, message: str, keyspace: str, table: str = ""):
        super().__init__(message)
        self.keyspace = keyspace
        self.table = table

    def extra(self) -> bytes:
        return _string(self.keyspace) + _string(self.table)


class Unprepared(CQLError):
    code = 0x2500

    def __init__(self, message: str, query_id: bytes):
        super().__init__(message)
        self.query_id = query_id

    def extra(self) -> bytes:
        return struct.pack(">H", len(self.query_id)) + self.query_id
