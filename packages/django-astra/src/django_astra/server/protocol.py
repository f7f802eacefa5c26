"""CQL native protocol v4 over asyncio (framing per native_protocol_v4.spec)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import struct
import time
from typing import Any

from cassandra import protocol as P

from . import types as T
from .engine import UNSET, Ctx, Engine, Rows, SchemaChange, SetKeyspace, Void
from .errors import BadCredentials, CQLError, Invalid, ProtocolError, ServerError, Unprepared

log = logging.getLogger("django_astra.server")

OP_ERROR, OP_STARTUP, OP_READY, OP_AUTHENTICATE = 0x00, 0x01, 0x02, 0x03
OP_OPTIONS, OP_SUPPORTED, OP_QUERY, OP_RESULT = 0x05, 0x06, 0x07, 0x08
OP_PREPARE, OP_EXECUTE, OP_REGISTER, OP_EVENT, OP_BATCH = 0x09, 0x0A, 0x0B, 0x0C, 0x0D
OP_AUTH_CHALLENGE, OP_AUTH_RESPONSE, OP_AUTH_SUCCESS = 0x0E, 0x0F, 0x10
HEADER = struct.Struct(">BBhBi")
MAX_FRAME = 256 * 1024 * 1024


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def _value(b: bytes | None) -> bytes:
    if b is None:
        return b"\xff\xff\xff\xff"
    return struct.pack(">i", len(b)) + b


class Server:
    def __init__(self, engine: Engine, *, username: str | None = None, password: str | None = None):
        self.engine = engine
        self.username = username
        self.password = password
        self.connections: set[Connection] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)


class Connection:
    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.engine = server.engine
        self.reader = reader
        self.writer = writer
        self.keyspace: str | None = None
        self.events: set[str] = set()
        self.ready = False
        self.authenticated = server.username is None

    async def run(self) -> None:
        try:
            while True:
                try:
                    head = await self.reader.readexactly(9)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                version, flags, stream, opcode, length = HEADER.unpack(head)
                if length < 0 or length > MAX_FRAME:
                    self.send(
                        stream, OP_ERROR, self.error_body(ProtocolError("Invalid frame length"))
                    )
                    return
                body = await self.reader.readexactly(length) if length else b""
                if version & 0x7F != 4:
                    self.send(
                        stream,
                        OP_ERROR,
                        self.error_body(
                            ProtocolError(
                                f"Invalid or unsupported protocol version ({version & 0x7F}); "
                                "the lowest supported version is 4 and the greatest is 4"
                            )
                        ),
                    )
                    await self.writer.drain()
                    return
                if flags & 0x01:
                    self.send(
                        stream,
                        OP_ERROR,
                        self.error_body(ProtocolError("Compression is not supported")),
                    )
                    continue
                if flags & 0x04:  # custom payload: skip
                    f = io.BytesIO(body)
                    P.read_bytesmap(f)
                    body = f.read()
                try:
                    op, out = self.dispatch(opcode, body)
                except CQLError as e:
                    op, out = OP_ERROR, self.error_body(e)
                except Exception as e:  # noqa: BLE001 - reported to the client as a server error
                    log.exception("internal error")
                    op, out = (
                        OP_ERROR,
                        self.error_body(ServerError(f"java.lang.RuntimeException: {e}")),
                    )
                self.send(stream, op, out)
                await self.writer.drain()
        finally:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001
                pass

    def push_schema_event(self, change: bytes) -> None:
        """EVENT SCHEMA_CHANGE to every connection that REGISTERed for it (stream -1)."""
        body = _string("SCHEMA_CHANGE") + change
        for conn in list(self.server.connections):
            if "SCHEMA_CHANGE" in conn.events:
                try:
                    conn.send(-1, OP_EVENT, body)
                except Exception:  # noqa: BLE001 - a closing peer must not fail the DDL
                    pass

    def send(self, stream: int, opcode: int, body: bytes) -> None:
        self.writer.write(HEADER.pack(0x84, 0, stream, opcode, len(body)) + body)

    def error_body(self, e: CQLError) -> bytes:
        return struct.pack(">i", e.code) + _string(e.message) + e.extra()

    # -- dispatch
    def dispatch(self, opcode: int, body: bytes) -> tuple[int, bytes]:
        f = io.BytesIO(body)
        if opcode == OP_OPTIONS:
            opts = {"CQL_VERSION": ["3.4.5"], "COMPRESSION": [], "PROTOCOL_VERSIONS": ["4/v4"]}
            if self.engine.astra:
                opts["PRODUCT_TYPE"] = ["DATASTAX_APOLLO"]
            buf = io.BytesIO()
            P.write_stringmultimap(buf, opts)
            return OP_SUPPORTED, buf.getvalue()
        if opcode == OP_STARTUP:
            opts = P.read_stringmap(f)
            if opts.get("COMPRESSION"):
                raise ProtocolError(f"Unknown compression algorithm: {opts['COMPRESSION']}")
            self.ready = True
            if not self.authenticated:
                return OP_AUTHENTICATE, _string("org.apache.cassandra.auth.PasswordAuthenticator")
            return OP_READY, b""
        if opcode == OP_AUTH_RESPONSE:
            token = P.read_binary_longstring(f) or b""
            parts = token.split(b"\x00")
            if len(parts) == 3:
                user, pw = parts[1].decode(errors="replace"), parts[2].decode(errors="replace")
                if user == self.server.username and pw == self.server.password:
                    self.authenticated = True
                    return OP_AUTH_SUCCESS, b"\xff\xff\xff\xff"
            raise BadCredentials("Provided username and/or password are incorrect")
        if not self.ready:
            raise ProtocolError("Unexpected message, expecting STARTUP or OPTIONS")
        if not self.authenticated:
            raise ProtocolError("Unexpected message, expecting SASL response message")
        if opcode == OP_REGISTER:
            self.events = set(P.read_stringlist(f))
            return OP_READY, b""
        if opcode == OP_QUERY:
            query = P.read_longstring(f)
            stmt, nbind = self.engine.parse(query)
            ctx, raw, names = self.query_params(f)
            binds: list[Any] = []
            if raw:
                specs = self.engine.bind_specs(stmt, nbind, Ctx(self.keyspace))
                binds = self.decode_binds(specs, raw, names)
            elif nbind:
                raise Invalid(f"There were {nbind} markers(?) in CQL but 0 bound variables")
            ctx.query_key = _qkey(query, self.keyspace)
            return self.result(self.engine.execute(stmt, binds, ctx), skip_meta=False)
        if opcode == OP_PREPARE:
            query = P.read_longstring(f)
            p = self.engine.prepare(query, self.keyspace)
            return OP_RESULT, self.prepared_body(p)
        if opcode == OP_EXECUTE:
            qid = P.read_binary_string(f)
            p = self.engine.prepared.get(qid)
            if p is None:
                raise Unprepared(f"Prepared query with ID {qid.hex()} not found", qid)
            ctx, raw, names = self.query_params(f)
            binds = self.decode_binds(p.binds, raw, names)
            ctx.query_key = qid
            skip = bool(self._flags & 0x02)
            return self.result(self.engine.execute(p.stmt, binds, ctx), skip_meta=skip)
        if opcode == OP_BATCH:
            return self.batch(f)
        raise ProtocolError(f"Unknown opcode {opcode}")

    def query_params(
        self, f: io.BytesIO
    ) -> tuple[Ctx, list[bytes | None | object], list[str] | None]:
        cl = P.read_short(f)
        flags = P.read_byte(f)
        self._flags = flags
        raw: list[Any] = []
        names = None
        if flags & 0x01:
            n = P.read_short(f)
            if flags & 0x40:
                names = []
            for _ in range(n):
                if names is not None:
                    names.append(P.read_string(f).lower())
                raw.append(_read_value(f))
        ctx = Ctx(self.keyspace, consistency=cl, now=time.time())
        if flags & 0x04:
            ctx.page_size = P.read_int(f)
        if flags & 0x08:
            ctx.paging_state = P.read_binary_longstring(f)
        if flags & 0x10:
            P.read_short(f)
        if flags & 0x20:
            ctx.timestamp = struct.unpack(">q", f.read(8))[0]
        return ctx, raw, names

    def decode_binds(
        self, specs: list[tuple[str, type]], raw: list[Any], names: list[str] | None
    ) -> list[Any]:
        if names is not None:
            by = dict(zip(names, raw, strict=True))
            raw = []
            for name, _ in specs:
                if name not in by:
                    raise Invalid(f"Invalid unset value for column {name}")
                raw.append(by[name])
        if len(raw) != len(specs):
            raise Invalid(
                f"There were {len(specs)} markers(?) in CQL but {len(raw)} bound variables"
            )
        out = []
        for (name, typ), b in zip(specs, raw, strict=True):
            if b is UNSET:
                out.append(UNSET)
                continue
            try:
                out.append(T.deserialize(typ, b))
            except Exception as e:  # noqa: BLE001 - malformed bytes from the client
                raise Invalid(
                    f"Invalid value for {name} of type {T.cql_name(T.unfreeze(typ))}: {e}"
                ) from None
        return out

    def batch(self, f: io.BytesIO) -> tuple[int, bytes]:
        kind = {0: "LOGGED", 1: "UNLOGGED", 2: "COUNTER"}.get(P.read_byte(f), "LOGGED")
        n = P.read_short(f)
        items = []
        for _ in range(n):
            k = P.read_byte(f)
            if k == 0:
                query = P.read_longstring(f)
                stmt, nbind = self.engine.parse(query)
                specs = self.engine.bind_specs(stmt, nbind, Ctx(self.keyspace)) if nbind else []
            else:
                qid = P.read_binary_string(f)
                p = self.engine.prepared.get(qid)
                if p is None:
                    raise Unprepared(f"Prepared query with ID {qid.hex()} not found", qid)
                stmt, specs = p.stmt, p.binds
            nv = P.read_short(f)
            raw = [_read_value(f) for _ in range(nv)]
            from . import cql

            if not isinstance(stmt, (cql.Insert, cql.Update, cql.Delete)):
                raise Invalid(
                    "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
                )
            items.append((stmt, self.decode_binds(specs, raw, None)))
        cl = P.read_short(f)
        flags = P.read_byte(f)
        ctx = Ctx(self.keyspace, consistency=cl, now=time.time())
        if flags & 0x10:
            P.read_short(f)
        if flags & 0x20:
            ctx.timestamp = struct.unpack(">q", f.read(8))[0]
        self.engine._check_write_cl(ctx)
        res = self.engine.write_batch(items, ctx, kind)
        return self.result(res, skip_meta=False)

    # -- results
    def result(self, res: Any, *, skip_meta: bool) -> tuple[int, bytes]:
        if isinstance(res, Void):
            return OP_RESULT, struct.pack(">i", 1)
        if isinstance(res, SetKeyspace):
            self.keyspace = res.ks
            return OP_RESULT, struct.pack(">i", 3) + _string(res.ks)
        if isinstance(res, SchemaChange):
            body = (
                struct.pack(">i", 5) + _string(res.change) + _string(res.target) + _string(res.ks)
            )
            if res.target == "TABLE":
                body += _string(res.name)
            self.push_schema_event(body[4:])
            return OP_RESULT, body
        if isinstance(res, Rows):
            out = bytearray(struct.pack(">i", 2))
            flags = 0x0001
            if res.paging_state is not None:
                flags |= 0x0002
            if skip_meta:
                flags = (flags & ~0x0001) | 0x0004
            out += struct.pack(">ii", flags, len(res.columns))
            if res.paging_state is not None:
                out += struct.pack(">i", len(res.paging_state)) + res.paging_state
            if not skip_meta:
                out += _string(res.ks) + _string(res.table)
                for name, typ in res.columns:
                    out += _string(name)
                    T.write_option(typ, out)
            out += struct.pack(">i", len(res.rows))
            for row in res.rows:
                for v in row:
                    out += _value(v)
            return OP_RESULT, bytes(out)
        raise ServerError(f"unexpected result {type(res).__name__}")

    def prepared_body(self, p: Any) -> bytes:
        out = bytearray(struct.pack(">i", 4))
        out += struct.pack(">H", len(p.id)) + p.id
        out += struct.pack(">iii", 0x0001, len(p.binds), len(p.pk_indexes))
        for i in p.pk_indexes:
            out += struct.pack(">H", i)
        out += _string(p.ks or "") + _string(p.table or "")
        for name, typ in p.binds:
            out += _string(name)
            T.write_option(typ, out)
        if p.result is None:
            out += struct.pack(">ii", 0x0004, 0)
        else:
            out += struct.pack(">ii", 0x0001, len(p.result))
            out += _string(p.ks) + _string(p.table)
            for name, typ in p.result:
                out += _string(name)
                T.write_option(typ, out)
        return bytes(out)


def _read_value(f: io.BytesIO) -> Any:
    n = struct.unpack(">i", f.read(4))[0]
    if n == -1:
        return None
    if n == -2:
        return UNSET
    return f.read(n)


def _qkey(query: str, ks: str | None) -> bytes:
    return hashlib.md5(((ks or "") + "\0" + query).encode()).digest()
