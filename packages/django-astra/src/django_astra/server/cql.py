"""Hand-written CQL tokenizer and recursive-descent parser for the subset the server runs.

The grammar follows Cassandra's ``Parser.g`` for the statements drivers, cqlengine and
django-astra send; anything else is a SyntaxException like Cassandra's.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import SyntaxError_

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
  | (?P<hex>0[xX][0-9a-fA-F]*)
  | (?P<float>\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<int>\d+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<dollar>\$\$.*?\$\$)
  | (?P<qident>"(?:[^"]|"")+")
  | (?P<ident>[a-zA-Z_][a-zA-Z0-9_]*)
  | (?P<named>:[a-zA-Z_][a-zA-Z0-9_]*)
  | (?P<sym><=|>=|!=|[-+*/%(){}\[\],.;:?<>=])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise SyntaxError_(f"line 1:{pos} token recognition error at: '{text[pos]}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(Tok("eof", "<EOF>", n))
    return out


# ---------------------------------------------------------------- AST


@dataclass
class Literal:
    value: Any
    kind: str  # str int float hex uuid bool null list set map tuple duration


@dataclass
class Bind:
    index: int
    name: str | None = None


@dataclass
class Func:
    name: str
    args: list[Any]


@dataclass
class Neg:
    term: Any


@dataclass
class Relation:
    kind: str  # col | token | tuple
    cols: list[str]
    op: str  # = < <= > >= IN CONTAINS CONTAINS_KEY != LIKE
    value: Any  # term, or list of terms for IN (..), or Bind for IN ?


@dataclass
class Selector:
    kind: str  # col star count func term
    name: str = ""
    args: list[Any] = field(default_factory=list)
    alias: str | None = None


@dataclass
class Select:
    ks: str | None
    table: str
    selectors: list[Selector] | None  # None = *
    where: list[Relation]
    order: list[tuple[str, bool]]  # (col, ascending)
    ann: tuple[str, Any] | None
    limit: Any
    per_partition_limit: Any
    allow_filtering: bool
    distinct: bool = False
    json: bool = False
    group_by: list[str] = field(default_factory=list)


@dataclass
class Insert:
    ks: str | None
    table: str
    columns: list[str]
    values: list[Any]
    if_not_exists: bool
    ttl: Any = None
    timestamp: Any = None


@dataclass
class Assignment:
    col: str
    op: str  # set add sub prepend setkey
    value: Any
    key: Any = None


@dataclass
class Condition:
    col: str
    op: str
    value: Any
    key: Any = None


@dataclass
class Update:
    ks: str | None
    table: str
    assignments: list[Assignment]
    where: list[Relation]
    if_exists: bool = False
    conditions: list[Condition] = field(default_factory=list)
    ttl: Any = None
    timestamp: Any = None


@dataclass
class Delete:
    ks: str | None
    table: str
    targets: list[tuple[str, Any]]
    where: list[Relation]
    if_exists: bool = False
    conditions: list[Condition] = field(default_factory=list)
    timestamp: Any = None


@dataclass
class Batch:
    kind: str  # LOGGED UNLOGGED COUNTER
    statements: list[Any]
    timestamp: Any = None


@dataclass
class Use:
    ks: str


@dataclass
class CreateKeyspace:
    name: str
    if_not_exists: bool
    options: dict[str, Any]


@dataclass
class AlterKeyspace:
    name: str
    options: dict[str, Any]


@dataclass
class DropKeyspace:
    name: str
    if_exists: bool


@dataclass
class ColumnSpec:
    name: str
    type: Any
    static: bool = False


@dataclass
class CreateTable:
    ks: str | None
    name: str
    if_not_exists: bool
    columns: list[ColumnSpec]
    partition_key: list[str]
    clustering: list[str]
    clustering_order: dict[str, str]
    options: dict[str, Any]


@dataclass
class AlterTable:
    ks: str | None
    name: str
    action: str  # add drop with rename
    columns: list[ColumnSpec] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DropTable:
    ks: str | None
    name: str
    if_exists: bool


@dataclass
class Truncate:
    ks: str | None
    name: str


@dataclass
class CreateIndex:
    ks: str | None
    table: str
    name: str | None
    if_not_exists: bool
    column: str
    target: str  # values keys entries full
    custom: str | None
    options: dict[str, Any]


@dataclass
class DropIndex:
    ks: str | None
    name: str
    if_exists: bool


@dataclass
class Unsupported:
    what: str


# ---------------------------------------------------------------- parser

_RESERVED_AFTER_TABLE = {"WHERE", "SET", "USING", "LIMIT", "ORDER", "ALLOW", "PER", "IF", "GROUP"}


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.nbind = 0

    # -- helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def error(self, expecting: str = "") -> SyntaxError_:
        t = self.tok
        if t.kind == "eof":
            return SyntaxError_(
                f"line 1:{t.pos} mismatched input '<EOF>' expecting {expecting or 'more input'}"
            )
        msg = f"line 1:{t.pos} no viable alternative at input '{t.text}'"
        if expecting:
            msg = f"line 1:{t.pos} mismatched input '{t.text}' expecting {expecting}"
        return SyntaxError_(msg)

    def at(self, *words: str) -> bool:
        t = self.tok
        return t.kind in ("ident", "sym") and t.upper in words

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise self.error(word)

    def ident(self) -> str:
        t = self.tok
        if t.kind == "ident":
            self.i += 1
            return t.text.lower()
        if t.kind == "qident":
            self.i += 1
            return t.text[1:-1].replace('""', '"')
        raise self.error("identifier")

    def qualified(self) -> tuple[str | None, str]:
        a = self.ident()
        if self.accept("."):
            return a, self.ident()
        return None, a

    def end(self) -> None:
        self.accept(";")
        if self.tok.kind != "eof":
            raise self.error("<EOF>")

    # -- entry
    def parse(self) -> Any:
        stmt = self.statement()
        self.end()
        return stmt

    def statement(self) -> Any:
        t = self.tok
        if t.kind != "ident":
            raise self.error()
        w = t.upper
        if w == "SELECT":
            return self.select()
        if w == "INSERT":
            return self.insert()
        if w == "UPDATE":
            return self.update()
        if w == "DELETE":
            return self.delete()
        if w == "BEGIN":
            return self.batch()
        if w == "USE":
            self.i += 1
            return Use(self.ident())
        if w == "CREATE":
            return self.create()
        if w == "ALTER":
            return self.alter()
        if w == "DROP":
            return self.drop()
        if w == "TRUNCATE":
            self.i += 1
            self.accept("TABLE", "COLUMNFAMILY")
            ks, name = self.qualified()
            return Truncate(ks, name)
        if w in ("GRANT", "REVOKE", "LIST"):
            self.i = len(self.toks) - 1
            return Unsupported(w)
        raise self.error()

    # -- terms
    def term(self) -> Any:
        t = self.tok
        k = t.kind
        if k == "sym" and t.text == "-":
            self.i += 1
            inner = self.term()
            if isinstance(inner, Literal) and inner.kind in ("int", "float"):
                return Literal(-inner.value, inner.kind)
            return Neg(inner)
        if k == "sym" and t.text == "?":
            self.i += 1
            b = Bind(self.nbind)
            self.nbind += 1
            return b
        if k == "named":
            self.i += 1
            b = Bind(self.nbind, t.text[1:].lower())
            self.nbind += 1
            return b
        if k == "str":
            self.i += 1
            return Literal(t.text[1:-1].replace("''", "'"), "str")
        if k == "dollar":
            self.i += 1
            return Literal(t.text[2:-2], "str")
        if k == "int":
            self.i += 1
            return Literal(int(t.text), "int")
        if k == "float":
            self.i += 1
            return Literal(float(t.text), "float")
        if k == "hex":
            self.i += 1
            return Literal(bytes.fromhex(t.text[2:]), "hex")
        if k == "uuid":
            self.i += 1
            return Literal(uuid.UUID(t.text), "uuid")
        if k == "ident":
            w = t.upper
            if w in ("TRUE", "FALSE"):
                self.i += 1
                return Literal(w == "TRUE", "bool")
            if w == "NULL":
                self.i += 1
                return Literal(None, "null")
            if w in ("NAN", "INFINITY"):
                self.i += 1
                return Literal(float(w.lower().replace("infinity", "inf")), "float")
            if self.peek().text == "(":
                name = self.ident()
                self.expect("(")
                args = []
                if not self.at(")"):
                    args.append(self.term())
                    while self.accept(","):
                        args.append(self.term())
                self.expect(")")
                return Func(name, args)
            raise self.error()
        if k == "sym" and t.text == "[":
            self.i += 1
            items = []
            if not self.at("]"):
                items.append(self.term())
                while self.accept(","):
                    items.append(self.term())
            self.expect("]")
            return Literal(items, "list")
        if k == "sym" and t.text == "(":
            self.i += 1
            items = [self.term()]
            while self.accept(","):
                items.append(self.term())
            self.expect(")")
            return Literal(items, "tuple")
        if k == "sym" and t.text == "{":
            self.i += 1
            if self.accept("}"):
                return Literal([], "emptybrace")
            first = self.term()
            if self.accept(":"):
                pairs = [(first, self.term())]
                while self.accept(","):
                    kk = self.term()
                    self.expect(":")
                    pairs.append((kk, self.term()))
                self.expect("}")
                return Literal(pairs, "map")
            items = [first]
            while self.accept(","):
                items.append(self.term())
            self.expect("}")
            return Literal(items, "set")
        raise self.error()

    def simple_value(self) -> Any:
        """Option values: constants, maps, identifiers (e.g. durable_writes = true)."""
        t = self.tok
        if (
            t.kind in ("ident",)
            and t.upper not in ("TRUE", "FALSE", "NULL")
            and self.peek().text != "("
        ):
            self.i += 1
            return t.text
        term = self.term()
        return _plain(term)

    # -- where
    def where(self) -> list[Relation]:
        rels = [self.relation()]
        while self.accept("AND"):
            rels.append(self.relation())
        return rels

    def relation(self) -> Relation:
        if self.at("TOKEN") and self.peek().text == "(":
            self.i += 2
            cols = [self.ident()]
            while self.accept(","):
                cols.append(self.ident())
            self.expect(")")
            op = self.op()
            return Relation("token", cols, op, self.term())
        if self.at("("):
            self.i += 1
            cols = [self.ident()]
            while self.accept(","):
                cols.append(self.ident())
            self.expect(")")
            op = self.op()
            if op == "IN":
                return Relation("tuple", cols, op, self.in_values())
            return Relation("tuple", cols, op, self.term())
        col = self.ident()
        op = self.op()
        if op == "IN":
            return Relation("col", [col], op, self.in_values())
        return Relation("col", [col], op, self.term())

    def in_values(self) -> Any:
        if self.tok.text == "?" or self.tok.kind == "named":
            return self.term()
        self.expect("(")
        vals = []
        if not self.at(")"):
            vals.append(self.term())
            while self.accept(","):
                vals.append(self.term())
        self.expect(")")
        return vals

    def op(self) -> str:
        t = self.tok
        if t.kind == "sym" and t.text in ("=", "<", "<=", ">", ">=", "!="):
            self.i += 1
            return t.text
        if self.accept("IN"):
            return "IN"
        if self.accept("CONTAINS"):
            if self.accept("KEY"):
                return "CONTAINS_KEY"
            return "CONTAINS"
        if self.accept("LIKE"):
            return "LIKE"
        raise self.error("relation operator")

    # -- select
    def select(self) -> Select:
        self.expect("SELECT")
        json = self.accept("JSON")
        distinct = self.accept("DISTINCT")
        selectors: list[Selector] | None
        if self.accept("*"):
            selectors = None
        else:
            selectors = [self.selector()]
            while self.accept(","):
                selectors.append(self.selector())
        self.expect("FROM")
        ks, table = self.qualified()
        where: list[Relation] = []
        order: list[tuple[str, bool]] = []
        ann = None
        limit = ppl = None
        group_by: list[str] = []
        allow = False
        if self.accept("WHERE"):
            where = self.where()
        if self.accept("GROUP"):
            self.expect("BY")
            group_by = [self.ident()]
            while self.accept(","):
                group_by.append(self.ident())
        if self.accept("ORDER"):
            self.expect("BY")
            while True:
                col = self.ident()
                if self.accept("ANN"):
                    self.expect("OF")
                    ann = (col, self.term())
                else:
                    asc = True
                    if self.accept("DESC"):
                        asc = False
                    else:
                        self.accept("ASC")
                    order.append((col, asc))
                if not self.accept(","):
                    break
        if self.accept("PER"):
            self.expect("PARTITION")
            self.expect("LIMIT")
            ppl = self.term()
        if self.accept("LIMIT"):
            limit = self.term()
        if self.accept("ALLOW"):
            self.expect("FILTERING")
            allow = True
        return Select(
            ks, table, selectors, where, order, ann, limit, ppl, allow, distinct, json, group_by
        )

    def selector(self) -> Selector:
        t = self.tok
        if t.kind == "ident" and self.peek().text == "(":
            name = self.ident()
            self.expect("(")
            if name == "count" and self.accept("*"):
                self.expect(")")
                sel = Selector("count", "count")
            else:
                args: list[Any] = []
                if not self.at(")"):
                    args.append(self.selector_arg())
                    while self.accept(","):
                        args.append(self.selector_arg())
                self.expect(")")
                if name == "count" and args and isinstance(args[0], Literal):
                    sel = Selector("count", "count")
                else:
                    sel = Selector("func", name, args)
        elif t.kind in ("ident", "qident"):
            sel = Selector("col", self.ident())
        else:
            sel = Selector("term", args=[self.term()])
        if self.accept("AS"):
            sel.alias = self.ident()
        return sel

    def selector_arg(self) -> Any:
        t = self.tok
        if t.kind == "ident" and self.peek().text == "(":
            return self.selector()
        if t.kind == "qident" or (
            t.kind == "ident" and t.upper not in ("TRUE", "FALSE", "NULL", "NAN", "INFINITY")
        ):
            return Selector("col", self.ident())
        return self.term()

    # -- modifications
    def using(self) -> tuple[Any, Any]:
        ttl = ts = None
        if self.accept("USING"):
            while True:
                if self.accept("TTL"):
                    ttl = self.term()
                elif self.accept("TIMESTAMP"):
                    ts = self.term()
                else:
                    raise self.error("TTL or TIMESTAMP")
                if not self.accept("AND"):
                    break
        return ttl, ts

    def insert(self) -> Insert:
        self.expect("INSERT")
        self.expect("INTO")
        ks, table = self.qualified()
        if self.at("JSON"):
            raise SyntaxError_(
                "INSERT JSON is not supported by the local CQL server; list the columns"
            )
        self.expect("(")
        cols = [self.ident()]
        while self.accept(","):
            cols.append(self.ident())
        self.expect(")")
        self.expect("VALUES")
        self.expect("(")
        vals = [self.term()]
        while self.accept(","):
            vals.append(self.term())
        self.expect(")")
        if len(cols) != len(vals):
            raise _invalid("Unmatched column names/values")
        ine = False
        if self.accept("IF"):
            self.expect("NOT")
            self.expect("EXISTS")
            ine = True
        ttl, ts = self.using()
        return Insert(ks, table, cols, vals, ine, ttl, ts)

    def conditions(self) -> tuple[bool, list[Condition]]:
        if not self.accept("IF"):
            return False, []
        if self.accept("EXISTS"):
            return True, []
        conds = [self.condition()]
        while self.accept("AND"):
            conds.append(self.condition())
        return False, conds

    def condition(self) -> Condition:
        col = self.ident()
        key = None
        if self.accept("["):
            key = self.term()
            self.expect("]")
        op = self.op()
        if op == "IN":
            return Condition(col, op, self.in_values(), key)
        return Condition(col, op, self.term(), key)

    def update(self) -> Update:
        self.expect("UPDATE")
        ks, table = self.qualified()
        ttl, ts = self.using()
        self.expect("SET")
        assigns = [self.assignment()]
        while self.accept(","):
            assigns.append(self.assignment())
        self.expect("WHERE")
        where = self.where()
        ie, conds = self.conditions()
        return Update(ks, table, assigns, where, ie, conds, ttl, ts)

    def assignment(self) -> Assignment:
        col = self.ident()
        if self.accept("["):
            key = self.term()
            self.expect("]")
            self.expect("=")
            return Assignment(col, "setkey", self.term(), key)
        if self.tok.text in ("+=", "-="):  # pragma: no cover - tokenizer yields + and =
            raise self.error()
        if self.tok.text in ("+", "-") and self.peek().text == "=":
            op = "add" if self.tok.text == "+" else "sub"
            self.i += 2
            return Assignment(col, op, self.term())
        self.expect("=")
        t = self.tok
        if (
            t.kind in ("ident", "qident")
            and self.peek().text in ("+", "-")
            and not (t.kind == "ident" and t.upper in ("TRUE", "FALSE", "NULL"))
        ):
            save = self.i
            other = self.ident()
            if other == col:
                op = "add" if self.tok.text == "+" else "sub"
                self.i += 1
                return Assignment(col, op, self.term())
            self.i = save
        value = self.term()
        if self.accept("+"):
            other = self.ident()
            if other != col:
                raise _invalid(
                    f"Only expressions of the form X = <value> + X are supported ({col})"
                )
            return Assignment(col, "prepend", value)
        return Assignment(col, "set", value)

    def delete(self) -> Delete:
        self.expect("DELETE")
        targets: list[tuple[str, Any]] = []
        if not self.at("FROM"):
            while True:
                col = self.ident()
                key = None
                if self.accept("["):
                    key = self.term()
                    self.expect("]")
                targets.append((col, key))
                if not self.accept(","):
                    break
        self.expect("FROM")
        ks, table = self.qualified()
        _, ts = self.using()
        self.expect("WHERE")
        where = self.where()
        ie, conds = self.conditions()
        return Delete(ks, table, targets, where, ie, conds, ts)

    def batch(self) -> Batch:
        self.expect("BEGIN")
        kind = "LOGGED"
        if self.accept("UNLOGGED"):
            kind = "UNLOGGED"
        elif self.accept("COUNTER"):
            kind = "COUNTER"
        self.expect("BATCH")
        _, ts = self.using()
        stmts = []
        while not self.at("APPLY"):
            if self.tok.kind == "eof":
                raise self.error("APPLY")
            w = self.tok.upper
            if w == "INSERT":
                stmts.append(self.insert())
            elif w == "UPDATE":
                stmts.append(self.update())
            elif w == "DELETE":
                stmts.append(self.delete())
            else:
                raise self.error("INSERT, UPDATE or DELETE")
            self.accept(";")
        self.expect("APPLY")
        self.expect("BATCH")
        return Batch(kind, stmts, ts)

    # -- DDL
    def if_not_exists(self) -> bool:
        if self.accept("IF"):
            self.expect("NOT")
            self.expect("EXISTS")
            return True
        return False

    def if_exists(self) -> bool:
        if self.accept("IF"):
            self.expect("EXISTS")
            return True
        return False

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        while True:
            if self.accept("CLUSTERING"):
                self.expect("ORDER")
                self.expect("BY")
                self.expect("(")
                order = {}
                while True:
                    col = self.ident()
                    d = "ASC"
                    if self.accept("DESC"):
                        d = "DESC"
                    else:
                        self.accept("ASC")
                    order[col] = d
                    if not self.accept(","):
                        break
                self.expect(")")
                opts["__clustering_order"] = order
            elif self.accept("COMPACT"):
                self.expect("STORAGE")
                opts["__compact"] = True
            else:
                name = self.ident()
                self.expect("=")
                opts[name] = self.simple_value()
            if not self.accept("AND"):
                break
        return opts

    def create(self) -> Any:
        self.expect("CREATE")
        if self.accept("KEYSPACE", "SCHEMA"):
            ine = self.if_not_exists()
            name = self.ident()
            opts = {}
            if self.accept("WITH"):
                opts = self.options()
            return CreateKeyspace(name, ine, opts)
        if self.accept("TABLE", "COLUMNFAMILY"):
            return self.create_table()
        custom = self.accept("CUSTOM")
        if self.accept("INDEX"):
            return self.create_index(custom)
        if self.at(
            "TYPE", "FUNCTION", "AGGREGATE", "MATERIALIZED", "TRIGGER", "ROLE", "USER", "OR"
        ):
            what = self.tok.upper
            self.i = len(self.toks) - 1
            return Unsupported(f"CREATE {what}")
        raise self.error()

    def cql_type(self) -> Any:
        t = self.tok
        if t.kind == "str":
            self.i += 1
            return ("custom", t.text[1:-1])
        name = self.ident()
        if name in ("list", "set", "frozen", "map", "tuple", "vector") and self.accept("<"):
            if name == "vector":
                sub = self.cql_type()
                self.expect(",")
                n = self.tok
                if n.kind != "int":
                    raise self.error("integer")
                self.i += 1
                self.expect(">")
                return ("vector", sub, int(n.text))
            subs = [self.cql_type()]
            while self.accept(","):
                subs.append(self.cql_type())
            self.expect(">")
            return (name, *subs)
        return name

    def create_table(self) -> CreateTable:
        ine = self.if_not_exists()
        ks, name = self.qualified()
        self.expect("(")
        cols: list[ColumnSpec] = []
        pk: list[str] = []
        ck: list[str] = []
        while True:
            if self.accept("PRIMARY"):
                self.expect("KEY")
                self.expect("(")
                if self.accept("("):
                    pk = [self.ident()]
                    while self.accept(","):
                        pk.append(self.ident())
                    self.expect(")")
                else:
                    pk = [self.ident()]
                while self.accept(","):
                    ck.append(self.ident())
                self.expect(")")
            else:
                cname = self.ident()
                ctype = self.cql_type()
                static = self.accept("STATIC")
                if self.accept("PRIMARY"):
                    self.expect("KEY")
                    pk = [cname]
                cols.append(ColumnSpec(cname, ctype, static))
            if not self.accept(","):
                break
            if self.at(")"):
                break
        self.expect(")")
        opts: dict[str, Any] = {}
        if self.accept("WITH"):
            opts = self.options()
        order = opts.pop("__clustering_order", {})
        return CreateTable(ks, name, ine, cols, pk, ck, order, opts)

    def create_index(self, custom: bool) -> CreateIndex:
        ine = self.if_not_exists()
        name = None
        if not self.at("ON"):
            name = self.ident()
        self.expect("ON")
        ks, table = self.qualified()
        self.expect("(")
        target = "values"
        if self.at("KEYS", "VALUES", "ENTRIES", "FULL") and self.peek().text == "(":
            target = self.tok.text.lower()
            self.i += 2
            col = self.ident()
            self.expect(")")
        else:
            col = self.ident()
        self.expect(")")
        cls = None
        opts: dict[str, Any] = {}
        if self.accept("USING"):
            t = self.tok
            if t.kind != "str":
                raise self.error("STRING_LITERAL")
            self.i += 1
            cls = t.text[1:-1]
            if self.accept("WITH"):
                self.expect("OPTIONS")
                self.expect("=")
                opts = self.simple_value()
        if custom and not cls:
            raise SyntaxError_("CUSTOM index requires specifying the index class")
        return CreateIndex(ks, table, name, ine, col, target, cls, opts)

    def alter(self) -> Any:
        self.expect("ALTER")
        if self.accept("KEYSPACE", "SCHEMA"):
            name = self.ident()
            self.expect("WITH")
            return AlterKeyspace(name, self.options())
        if self.accept("TABLE", "COLUMNFAMILY"):
            ks, name = self.qualified()
            if self.accept("ADD"):
                cols = []
                if self.accept("("):
                    while True:
                        cname = self.ident()
                        cols.append(ColumnSpec(cname, self.cql_type(), self.accept("STATIC")))
                        if not self.accept(","):
                            break
                    self.expect(")")
                else:
                    cname = self.ident()
                    cols.append(ColumnSpec(cname, self.cql_type(), self.accept("STATIC")))
                return AlterTable(ks, name, "add", columns=cols)
            if self.accept("DROP"):
                drops = []
                if self.accept("("):
                    drops.append(self.ident())
                    while self.accept(","):
                        drops.append(self.ident())
                    self.expect(")")
                else:
                    drops.append(self.ident())
                return AlterTable(ks, name, "drop", drop=drops)
            if self.accept("WITH"):
                return AlterTable(ks, name, "with", options=self.options())
            if self.at("ALTER", "RENAME"):
                what = self.tok.upper
                self.i = len(self.toks) - 1
                return Unsupported(f"ALTER TABLE {what}")
            raise self.error("ADD, DROP or WITH")
        if self.at("TYPE", "MATERIALIZED", "ROLE", "USER"):
            what = self.tok.upper
            self.i = len(self.toks) - 1
            return Unsupported(f"ALTER {what}")
        raise self.error()

    def drop(self) -> Any:
        self.expect("DROP")
        if self.accept("KEYSPACE", "SCHEMA"):
            ie = self.if_exists()
            return DropKeyspace(self.ident(), ie)
        if self.accept("TABLE", "COLUMNFAMILY"):
            ie = self.if_exists()
            ks, name = self.qualified()
            return DropTable(ks, name, ie)
        if self.accept("INDEX"):
            ie = self.if_exists()
            ks, name = self.qualified()
            return DropIndex(ks, name, ie)
        if self.at("TYPE", "FUNCTION", "AGGREGATE", "MATERIALIZED", "TRIGGER", "ROLE", "USER"):
            what = self.tok.upper
            self.i = len(self.toks) - 1
            return Unsupported(f"DROP {what}")
        raise self.error()


def _plain(term: Any) -> Any:
    """Turn a literal term into a plain Python value (for WITH options)."""
    if isinstance(term, Literal):
        if term.kind == "map":
            return {_plain(k): _plain(v) for k, v in term.value}
        if term.kind in ("list", "set", "tuple"):
            return [_plain(v) for v in term.value]
        if term.kind == "emptybrace":
            return {}
        return term.value
    raise SyntaxError_("Expected a constant")


def _invalid(msg: str) -> Exception:
    from .errors import Invalid

    return Invalid(msg)


def parse(text: str) -> Any:
    """Parse one CQL statement; returns the AST node and the number of bind markers."""
    p = Parser(text)
    stmt = p.parse()
    stmt_binds = p.nbind
    return stmt, stmt_binds
