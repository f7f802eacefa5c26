"""CQL types on top of the driver's own codecs (``cassandra.cqltypes``).

Values inside the server are the Python objects the driver's ``deserialize`` returns; bytes on
disk and on the wire are what its ``serialize`` writes, so both sides agree by construction.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import ipaddress
import struct
import uuid
from typing import Any

from cassandra import cqltypes as ct
from cassandra import util
from cassandra.protocol import ResultMessage

from .errors import Invalid

PV = 4

_SIMPLE: dict[str, type] = {
    "ascii": ct.AsciiType,
    "bigint": ct.LongType,
    "blob": ct.BytesType,
    "boolean": ct.BooleanType,
    "counter": ct.CounterColumnType,
    "decimal": ct.DecimalType,
    "double": ct.DoubleType,
    "float": ct.FloatType,
    "int": ct.Int32Type,
    "text": ct.UTF8Type,
    "varchar": ct.UTF8Type,
    "timestamp": ct.DateType,
    "uuid": ct.UUIDType,
    "varint": ct.IntegerType,
    "timeuuid": ct.TimeUUIDType,
    "inet": ct.InetAddressType,
    "date": ct.SimpleDateType,
    "time": ct.TimeType,
    "smallint": ct.ShortType,
    "tinyint": ct.ByteType,
    "duration": ct.DurationType,
}

_CODE_BY_TYPE = {v: k for k, v in ResultMessage.type_codes.items()}
_CODE_BY_TYPE[ct.UTF8Type] = 0x000D
_CODE_BY_TYPE[ct.DateType] = 0x000B


def from_ast(node: Any) -> type:
    """Type AST from the parser (``'int'`` or ``('map', 'text', 'int')``) to a cqltypes class."""
    if isinstance(node, str):
        try:
            return _SIMPLE[node]
        except KeyError:
            raise Invalid(f"Unknown type {node}") from None
    kind = node[0]
    if kind == "frozen":
        inner = from_ast(node[1])
        return ct.FrozenType.apply_parameters([inner])
    if kind in ("list", "set"):
        if len(node) != 2:
            raise Invalid(f"Invalid {kind} type")
        base = ct.ListType if kind == "list" else ct.SetType
        return base.apply_parameters([_unfrozen(from_ast(node[1]))])
    if kind == "map":
        if len(node) != 3:
            raise Invalid("Invalid map type")
        return ct.MapType.apply_parameters(
            [_unfrozen(from_ast(node[1])), _unfrozen(from_ast(node[2]))]
        )
    if kind == "tuple":
        return ct.TupleType.apply_parameters([_unfrozen(from_ast(n)) for n in node[1:]])
    if kind == "vector":
        sub = from_ast(node[1])
        return ct.VectorType.apply_parameters([sub, node[2]], None)
    if kind == "custom":
        return ct.lookup_casstype(node[1])
    raise Invalid(f"Unknown type {kind}")


@functools.lru_cache(maxsize=4096)
def _unfrozen(t: type) -> type:
    return t.subtypes[0] if issubclass(t, ct.FrozenType) else t


def unfreeze(t: type) -> type:
    return _unfrozen(t)


def is_frozen(t: type) -> bool:
    return issubclass(t, ct.FrozenType)


def cql_name(t: type) -> str:
    """CQL spelling used in system_schema.columns.type (e.g. ``frozen<list<int>>``)."""
    if issubclass(t, ct.FrozenType):
        return f"frozen<{cql_name(t.subtypes[0])}>"
    if issubclass(t, ct.VectorType):
        return f"vector<{cql_name(t.subtype)}, {t.vector_size}>"
    if issubclass(t, ct.MapType):
        return f"map<{cql_name(t.subtypes[0])}, {cql_name(t.subtypes[1])}>"
    if issubclass(t, ct.ListType):
        return f"list<{cql_name(t.subtypes[0])}>"
    if issubclass(t, ct.SetType):
        return f"set<{cql_name(t.subtypes[0])}>"
    if issubclass(t, ct.TupleType):
        return "tuple<" + ", ".join(cql_name(s) for s in t.subtypes) + ">"
    if t is ct.UTF8Type or t is ct.VarcharType:
        return "text"
    return t.typename


def parse_type_string(text: str) -> type:
    from .cql import Parser

    p = Parser(text)
    node = p.cql_type()
    return from_ast(node)


@functools.lru_cache(maxsize=4096)
def kind_of(t: type) -> str:
    t = _unfrozen(t)
    if issubclass(t, ct.VectorType):
        return "vector"
    if issubclass(t, ct.MapType):
        return "map"
    if issubclass(t, ct.ListType):
        return "list"
    if issubclass(t, ct.SetType):
        return "set"
    if issubclass(t, ct.TupleType):
        return "tuple"
    return "simple"


def write_option(t: type, out: bytearray) -> None:
    """Encode a type as a protocol [option] (section 4.2.5.2)."""
    t = _unfrozen(t)
    if issubclass(t, ct.VectorType):
        name = (
            f"org.apache.cassandra.db.marshal.VectorType({_cass_name(t.subtype)}, {t.vector_size})"
        )
        b = name.encode()
        out += struct.pack(">HH", 0, len(b)) + b
        return
    for base, code in ((ct.ListType, 0x20), (ct.SetType, 0x22)):
        if issubclass(t, base):
            out += struct.pack(">H", code)
            write_option(t.subtypes[0], out)
            return
    if issubclass(t, ct.MapType):
        out += struct.pack(">H", 0x21)
        write_option(t.subtypes[0], out)
        write_option(t.subtypes[1], out)
        return
    if issubclass(t, ct.TupleType):
        out += struct.pack(">HH", 0x31, len(t.subtypes))
        for s in t.subtypes:
            write_option(s, out)
        return
    code = _CODE_BY_TYPE.get(t)
    if code is None:
        b = _cass_name(t).encode()
        out += struct.pack(">HH", 0, len(b)) + b
        return
    out += struct.pack(">H", code)


def _cass_name(t: type) -> str:
    return "org.apache.cassandra.db.marshal." + t.cassname


def serialize(t: type, v: Any) -> bytes | None:
    if v is None:
        return None
    return t.serialize(v, PV)


def deserialize(t: type, b: bytes | None) -> Any:
    if b is None:
        return None
    if not b and t not in (ct.UTF8Type, ct.AsciiType, ct.BytesType, ct.VarcharType):
        return None
    return t.deserialize(b, PV)


# ------------------------------------------------------------- literal coercion

_INTS = (ct.Int32Type, ct.LongType, ct.ShortType, ct.ByteType, ct.IntegerType, ct.CounterColumnType)
_FLOATS = (ct.FloatType, ct.DoubleType)
_LIMITS = {
    ct.Int32Type: 2**31,
    ct.LongType: 2**63,
    ct.CounterColumnType: 2**63,
    ct.ShortType: 2**15,
    ct.ByteType: 2**7,
}


def _kind_name(kind: str) -> str:
    return {
        "str": "STRING",
        "int": "INTEGER",
        "float": "FLOAT",
        "hex": "HEX",
        "uuid": "UUID",
        "bool": "BOOLEAN",
    }.get(kind, kind.upper())


def coerce_literal(lit: Any, t: type, col: str, resolve: Any) -> Any:
    """A parsed literal term to the Python value the driver would deserialize for ``t``.

    ``resolve(term, type)`` evaluates nested terms (bind markers, functions inside collections).
    Raises Invalid with Cassandra's message for constants of the wrong kind.
    """
    kind = lit.kind
    v = lit.value
    if kind == "null":
        return None
    t0 = _unfrozen(t)
    bad = Invalid(
        f'Invalid {_kind_name(kind)} constant ({_lit_text(lit)}) for "{col}" of type {cql_name(t0)}'
    )
    k = kind_of(t0)
    if k in ("list", "vector"):
        if kind == "emptybrace" and k == "list":
            return []
        if kind != "list":
            raise Invalid(f"Invalid {kind} literal for {col} of type {cql_name(t0)}")
        sub = t0.subtype if k == "vector" else t0.subtypes[0]
        return [resolve(x, sub, col) for x in v]
    if k == "set":
        if kind == "emptybrace":
            return util.SortedSet()
        if kind != "set":
            raise Invalid(f"Invalid {kind} literal for {col} of type {cql_name(t0)}")
        return util.SortedSet(resolve(x, t0.subtypes[0], col) for x in v)
    if k == "map":
        if kind == "emptybrace":
            return util.OrderedMapSerializedKey(t0.subtypes[0], PV)
        if kind != "map":
            raise Invalid(f"Invalid {kind} literal for {col} of type {cql_name(t0)}")
        m = util.OrderedMapSerializedKey(t0.subtypes[0], PV)
        for kk, vv in v:
            key = resolve(kk, t0.subtypes[0], col)
            m._insert_unchecked(
                key, t0.subtypes[0].serialize(key, PV), resolve(vv, t0.subtypes[1], col)
            )
        return m
    if k == "tuple":
        if kind != "tuple" or len(v) != len(t0.subtypes):
            raise bad
        return tuple(resolve(x, s, col) for x, s in zip(v, t0.subtypes, strict=True))
    if t0 in _INTS:
        if kind != "int":
            raise bad
        lim = _LIMITS.get(t0)
        if lim and not -lim <= v < lim:
            raise Invalid(f"Unable to make {cql_name(t0)} from '{v}'")
        return v
    if t0 in _FLOATS:
        if kind not in ("int", "float"):
            raise bad
        return float(v)
    if t0 is ct.DecimalType:
        if kind not in ("int", "float"):
            raise bad
        return decimal.Decimal(str(v))
    if t0 in (ct.UTF8Type, ct.AsciiType, ct.VarcharType):
        if kind != "str":
            raise bad
        return v
    if t0 is ct.BooleanType:
        if kind != "bool":
            raise bad
        return v
    if t0 is ct.BytesType:
        if kind != "hex":
            raise bad
        return v
    if t0 in (ct.UUIDType, ct.TimeUUIDType):
        if kind == "str":
            try:
                v = uuid.UUID(v)
            except ValueError:
                raise bad from None
        elif kind != "uuid":
            raise bad
        if t0 is ct.TimeUUIDType and v.version != 1:
            raise Invalid(f"Unable to make a time-based UUID from '{v}'")
        return v
    if t0 is ct.DateType:
        if kind == "int":
            return util.datetime_from_timestamp(v / 1000.0)
        if kind == "str":
            try:
                ms = ct.DateType.interpret_datestring(v)
            except ValueError:
                raise Invalid(f"Unable to coerce '{v}' to a formatted date (long)") from None
            return util.datetime_from_timestamp(ms / 1000.0)
        raise bad
    if t0 is ct.SimpleDateType:
        if kind == "str":
            try:
                return util.Date(datetime.date.fromisoformat(v))
            except ValueError:
                raise Invalid(f"Unable to coerce '{v}' to a formatted date (long)") from None
        if kind == "int":
            return util.Date(v - 2**31)
        raise bad
    if t0 is ct.TimeType:
        if kind == "str":
            return util.Time(v)
        if kind == "int":
            return util.Time(v)
        raise bad
    if t0 is ct.InetAddressType:
        if kind != "str":
            raise bad
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise Invalid(f"Unable to make inet address from '{v}'") from None
        return v
    if t0 is ct.DurationType:
        raise Invalid(
            "Duration literals are not supported by the local CQL server; bind a Duration"
        )
    raise bad


def _lit_text(lit: Any) -> str:
    if lit.kind == "str":
        return str(lit.value)
    if lit.kind == "hex":
        return "0x" + lit.value.hex()
    if lit.kind == "bool":
        return "true" if lit.value else "false"
    return str(lit.value)


def normalize(t: type, v: Any) -> Any:
    """Round-trip through the driver codec so comparisons see canonical values."""
    if v is None:
        return None
    try:
        b = t.serialize(v, PV)
    except (TypeError, ValueError, struct.error, OverflowError) as e:
        raise Invalid(f"Invalid value for type {cql_name(_unfrozen(t))}: {e}") from None
    return deserialize(t, b)


# ------------------------------------------------------------- ordering


class _Rev:
    __slots__ = ("v",)

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return other.v < self.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v


def sort_key(t: type, v: Any) -> Any:
    """A key ordering values as Cassandra's comparator for ``t`` does."""
    t = _unfrozen(t)
    if v is None:
        return (0,)
    if t is ct.TimeUUIDType:
        return (1, v.time, v.bytes)
    if t is ct.UUIDType:
        if v.version == 1:
            return (1, v.version, v.time, v.bytes)
        return (1, v.version or 0, 0, v.bytes)
    if t is ct.InetAddressType:
        return (1, ipaddress.ip_address(v).packed)
    if t is ct.SimpleDateType or t is ct.TimeType:
        return (1, v.days_from_epoch if t is ct.SimpleDateType else v.nanosecond_time)
    if kind_of(t) in ("list", "set", "tuple", "vector"):
        subs = t.subtypes or (t.subtype,) if kind_of(t) != "vector" else (t.subtype,)
        if kind_of(t) == "tuple":
            return (1, tuple(sort_key(s, x) for s, x in zip(t.subtypes, v, strict=False)))
        return (1, tuple(sort_key(subs[0], x) for x in v))
    if kind_of(t) == "map":
        return (
            1,
            tuple((sort_key(t.subtypes[0], k), sort_key(t.subtypes[1], x)) for k, x in v.items()),
        )
    if isinstance(v, float) and v != v:
        return (2,)
    return (1, v)


def rev(k: Any) -> Any:
    return _Rev(k)


# ------------------------------------------------------------- order-preserving keys

_FIXED_INT = {
    ct.Int32Type: 4,
    ct.LongType: 8,
    ct.ShortType: 2,
    ct.ByteType: 1,
    ct.CounterColumnType: 8,
}


def _escape(b: bytes) -> bytes:
    return b.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


@functools.lru_cache(maxsize=4096)
def orderable(t: type) -> bool:
    """Whether :func:`order_bytes` can encode ``t`` (else the server sorts in Python)."""
    t = _unfrozen(t)
    return (
        t in _FIXED_INT
        or t in (ct.UTF8Type, ct.AsciiType, ct.VarcharType, ct.BytesType, ct.BooleanType)
        or t in (ct.FloatType, ct.DoubleType, ct.DateType, ct.SimpleDateType, ct.TimeType)
        or t in (ct.UUIDType, ct.TimeUUIDType)
    )


def order_bytes(t: type, v: Any, desc: bool = False) -> bytes:
    """Bytes whose memcmp order is Cassandra's order for ``t`` (same as :func:`sort_key`).

    Prefix-free per component, so concatenating clustering components keeps tuple order;
    DESC components are bit-inverted.
    """
    t = _unfrozen(t)
    if t in _FIXED_INT:
        n = _FIXED_INT[t]
        out = (v + (1 << (8 * n - 1))).to_bytes(n, "big")
    elif t in (ct.UTF8Type, ct.AsciiType, ct.VarcharType):
        out = _escape(v.encode("utf-8"))
    elif t is ct.BytesType:
        out = _escape(bytes(v))
    elif t is ct.BooleanType:
        out = b"\x01" if v else b"\x00"
    elif t in (ct.FloatType, ct.DoubleType):
        bits = struct.unpack(">Q", struct.pack(">d", float(v)))[0]
        bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
        out = bits.to_bytes(8, "big")
    elif t is ct.DateType:
        out = (
            (t.serialize(v, PV) and struct.unpack(">q", t.serialize(v, PV))[0]) + (1 << 63)
        ).to_bytes(8, "big")
    elif t is ct.SimpleDateType:
        out = t.serialize(v, PV)  # unsigned days, epoch at 2**31: already ordered
    elif t is ct.TimeType:
        out = t.serialize(v, PV)  # non-negative nanoseconds
    elif t is ct.TimeUUIDType:
        out = v.time.to_bytes(8, "big") + v.bytes
    elif t is ct.UUIDType:
        ver = v.version or 0
        tm = v.time if ver == 1 else 0
        out = bytes([ver]) + tm.to_bytes(8, "big") + v.bytes
    else:  # pragma: no cover - guarded by orderable()
        raise TypeError(t)
    if desc:
        out = bytes(255 - x for x in out)
    return out
